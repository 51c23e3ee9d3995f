"""The app's settings: typed, versioned, kept as JSON in the config folder.

A damaged or foreign file never stops the app: what cannot be used falls back to its default,
field by field, and an unreadable file is kept beside as settings.json.broken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from faceapp.core import paths
from faceapp.core.errors import FaceappError
from faceapp.core.fsync import sync_folder

CURRENT_VERSION = 2
SETTINGS_FILE = "settings.json"
MAX_RECENT = 10
# The same values as faceapp.core.photo.writing.FORMATS (not imported: it pulls in OpenCV).
EXPORT_FORMATS = ("auto", "png", "jpg", "webp", "tiff")
_FORMAT_ALIASES = {"same": "auto", "jpeg": "jpg", "tif": "tiff"}
BACKGROUNDS = ("lanczos", "none", "model")  # as RestoreOptions.background
DEVICES = ("auto", "cpu", "cuda", "mps", "intel-gpu")  # as core.runtime.device.DEVICE_CHOICES
RUNTIMES = ("auto", "torch", "openvino")  # as core.runtime.compiled.RUNTIMES
PRECISIONS = ("exact", "fast")
UPSCALES = (1, 2, 3, 4)

log = logging.getLogger(__name__)


class SettingsError(FaceappError):
    """The settings could not be saved."""


@dataclass
class ExportSettings:
    format: str = "auto"  # auto (the original's format), png, jpg, webp or tiff
    quality: int = 95  # JPEG and WebP, 1..100
    keep_metadata: bool = True
    destination: str | None = None  # None: next to the original photo


@dataclass
class Settings:
    schema_version: int = CURRENT_VERSION
    face_model: str | None = None  # catalog id; None: the recommended model
    strength: float = 1.0
    fidelity: float = 0.5
    upscale: int = 1
    background: str = "lanczos"
    background_model: str | None = None
    export: ExportSettings = field(default_factory=ExportSettings)
    recent_files: list[str] = field(default_factory=list)  # most recent first
    window_geometry: str | None = None  # base64 of QWidget.saveGeometry()
    window_state: str | None = None  # base64 of QMainWindow.saveState()
    welcome_seen: bool = False
    device: str = "auto"
    runtime: str = "auto"  # added in version 2 with a default: older files need no migration
    precision: str = "exact"  # "fast": bf16/fp16, approximate
    colorize: bool = False  # black-and-white photos only; new fields with defaults: no migration
    colour_model: str | None = None  # an installed DDColor id; None: the first installed
    colour_strength: float = 1.0
    repair: bool = True  # repair the damage marked on a photo when restoring
    repair_method: str = "opencv"  # built in, or an installed inpainting model's id (LaMa)
    complete_faces: bool = False  # GPEN-Inpainting on faces under the marked damage

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        """Put path first in recent_files (once), keeping at most MAX_RECENT."""
        entry = os.fspath(path)
        kept = [p for p in self.recent_files if p != entry]
        self.recent_files = [entry, *kept][:MAX_RECENT]


def settings_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE


# --- migrations --------------------------------------------------------------------------------


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept "model", "jpeg_quality" and "output_folder" at the top level."""
    data = dict(data)
    export = data.get("export")
    export = dict(export) if isinstance(export, dict) else {}
    if "model" in data:
        data.setdefault("face_model", data.pop("model"))
    for old, new in (("jpeg_quality", "quality"), ("output_folder", "destination")):
        if old in data:
            export.setdefault(new, data.pop(old))
    data["export"] = export
    return data


# MIGRATIONS[i] turns a version i + 1 dict into a version i + 2 dict.
MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [_v1_to_v2]


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """data brought to CURRENT_VERSION; a newer version is left as it is (what fits is used)."""
    version = data.get("schema_version", 1)  # the first release wrote no version
    if not _is_int(version) or version < 1:
        log.warning("Settings: unknown schema_version %r; reading what fits.", version)
        return data
    if version > CURRENT_VERSION:
        log.info(
            "Settings were written by a newer faceapp (version %d); reading what fits.", version
        )
        return data
    for migration in MIGRATIONS[version - 1 : CURRENT_VERSION - 1]:
        try:
            data = migration(data)
        except Exception:  # a bad old file must not stop the app: read what fits
            log.exception("Settings: %s failed; reading what fits.", migration.__name__)
            break
    return data


# --- checking values ---------------------------------------------------------------------------

Rule = Callable[[Any], Any]  # returns the value to use, or raises ValueError


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number_in(low: float, high: float) -> Rule:
    def rule(value: Any) -> float:
        ok = _is_int(value) or isinstance(value, float)
        if not ok or not math.isfinite(value) or not low <= value <= high:
            raise ValueError
        return float(value)

    return rule


def _int_in(low: int, high: int, allowed: tuple[int, ...] | None = None) -> Rule:
    def rule(value: Any) -> int:
        if not _is_int(value) or not low <= value <= high:
            raise ValueError
        if allowed is not None and value not in allowed:
            raise ValueError
        return value

    return rule


def _choice(options: tuple[str, ...], aliases: dict[str, str] | None = None) -> Rule:
    def rule(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError
        value = (aliases or {}).get(value.lower(), value.lower())
        if value not in options:
            raise ValueError
        return value

    return rule


def _of_type(kind: type, optional: bool = False) -> Rule:
    def rule(value: Any) -> Any:
        # The exact type: JSON's true is not an int here, nor 1 a bool.
        if type(value) is kind or (value is None and optional):
            return value
        raise ValueError

    return rule


def _recent(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError
    unique = dict.fromkeys(p for p in value if isinstance(p, str) and p)
    return list(unique)[:MAX_RECENT]


_EXPORT_RULES: dict[str, Rule] = {
    "format": _choice(EXPORT_FORMATS, _FORMAT_ALIASES),
    "quality": _int_in(1, 100),
    "keep_metadata": _of_type(bool),
    "destination": _of_type(str, optional=True),
}

_SETTINGS_RULES: dict[str, Rule] = {
    "face_model": _of_type(str, optional=True),
    "strength": _number_in(0.0, 1.0),
    "fidelity": _number_in(0.0, 1.0),
    "upscale": _int_in(1, 4, UPSCALES),
    "background": _choice(BACKGROUNDS),
    "background_model": _of_type(str, optional=True),
    "recent_files": _recent,
    "window_geometry": _of_type(str, optional=True),
    "window_state": _of_type(str, optional=True),
    "welcome_seen": _of_type(bool),
    "device": _choice(DEVICES),
    "runtime": _choice(RUNTIMES),
    "precision": _choice(PRECISIONS),
    "colorize": _of_type(bool),
    "colour_model": _of_type(str, optional=True),
    "colour_strength": _number_in(0.0, 1.0),
    "repair": _of_type(bool),
    "repair_method": _of_type(str),
    "complete_faces": _of_type(bool),
}


def _clean(data: dict[str, Any], rules: dict[str, Rule], where: str) -> dict[str, Any]:
    """The usable values of data; an unusable one is logged and left out (its default stays)."""
    cleaned: dict[str, Any] = {}
    for name, rule in rules.items():
        if name not in data:
            continue
        try:
            cleaned[name] = rule(data[name])
        except (TypeError, ValueError):
            log.warning(
                "Setting %s%s = %r is not usable; using the default.", where, name, data[name]
            )
    return cleaned


def settings_from_dict(data: dict[str, Any]) -> Settings:
    """Settings from a decoded settings file of any version (unknown keys are ignored)."""
    data = migrate(data)
    values = _clean(data, _SETTINGS_RULES, "")
    export = data.get("export")
    export_values = _clean(export, _EXPORT_RULES, "export.") if isinstance(export, dict) else {}
    if "export" in data and not isinstance(export, dict):
        log.warning("Setting export = %r is not usable; using the defaults.", export)
    return Settings(**values, export=ExportSettings(**export_values))


# --- file --------------------------------------------------------------------------------------


def load_settings(path: Path | None = None) -> Settings:
    """The settings in path (default: settings_path()); defaults when missing or unreadable."""
    path = Path(path) if path is not None else settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _set_aside(path, f"cannot be read ({exc})")
        return Settings()
    if not isinstance(data, dict):
        _set_aside(path, "does not hold settings")
        return Settings()
    return settings_from_dict(data)


def _set_aside(path: Path, problem: str) -> None:
    broken = path.with_name(path.name + ".broken")
    try:
        os.replace(path, broken)
    except OSError as exc:
        log.warning("The settings file %s %s and could not be set aside: %s", path, problem, exc)
        return
    log.warning("The settings file %s %s; kept it as %s and used defaults.", path, problem, broken)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically: a temporary file in the same folder, then os.replace.

    Raises SettingsError; the previous file is then left as it was.
    """
    path = Path(path) if path is not None else settings_path()
    data = asdict(settings)
    data["schema_version"] = CURRENT_VERSION
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(path, text)
    except OSError as exc:
        raise SettingsError(
            f"Could not save your settings in '{path.parent}' ({exc.strerror or exc}). "
            "Check that the folder exists and that there is free disk space."
        ) from exc


def _atomic_write_text(path: Path, text: str) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    sync_folder(path.parent)
