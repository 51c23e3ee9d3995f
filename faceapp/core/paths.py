"""Where faceapp keeps its files: platformdirs locations, each overridable by an env variable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "faceapp"
PACKAGE = Path(__file__).resolve().parent.parent
RESOURCES = PACKAGE.parent / "resources"  # the repository's folder (a checkout)
INSTALLED_RESOURCES = PACKAGE / "resources"  # the same files in a wheel: faceapp.resources


def _dir(env_var: str, default: str) -> Path:
    override = os.environ.get(env_var)
    return Path(override).expanduser() if override else Path(default)


def models_dir() -> Path:
    """Downloaded and imported model files (never site-packages, never the cwd)."""
    return _dir("FACEAPP_MODELS_DIR", str(Path(platformdirs.user_data_dir(APP_NAME)) / "models"))


def config_dir() -> Path:
    return _dir("FACEAPP_CONFIG_DIR", platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return _dir("FACEAPP_DATA_DIR", platformdirs.user_data_dir(APP_NAME))


def log_dir() -> Path:
    return _dir("FACEAPP_LOG_DIR", platformdirs.user_log_dir(APP_NAME))


def cache_dir() -> Path:
    return _dir("FACEAPP_CACHE_DIR", platformdirs.user_cache_dir(APP_NAME))


def resources_dir() -> Path:
    """Where the shipped files are: inside a PyInstaller bundle (its sys._MEIPASS), in the
    installed package (a wheel, ``pip install .``, pipx), else the checkout's resources/."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    if INSTALLED_RESOURCES.is_dir():
        return INSTALLED_RESOURCES
    return RESOURCES


def resource(*parts: str) -> Path:
    """A file shipped with the app in resources/."""
    return resources_dir().joinpath(*parts)
