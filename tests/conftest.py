"""Shared fixtures: the ../shared data folder, golden weights, redirected user dirs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FACEAPP_SHARED_DIR", REPO.parent / "shared"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_shared(*parts: str) -> Path:
    """Path inside ../shared; skip with a reason when absent, fail when CI=true."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"needs {path} (the ../shared test data beside the repository)"
        if _in_ci():
            pytest.fail(f"CI=true but {message} is missing")
        pytest.skip(message)
    return path


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()


def load_golden(name: str) -> tuple[dict, dict]:
    """(state_dict, meta) regenerated from ../shared/golden/<name> with the official recipe."""
    folder = require_shared("golden", name)
    sys.path.insert(0, str(folder.parent))
    try:
        from regen_weights import regen  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    meta = json.loads((folder / "meta.json").read_text())
    keys = json.loads((folder / "keys.json").read_text())
    return regen(keys, meta["weights"]["scheme"]), meta


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never touch the real user directories: every platformdirs location goes to tmp."""
    root = tmp_path_factory.mktemp("userdirs")
    for var, sub in (
        ("FACEAPP_MODELS_DIR", "models"),
        ("FACEAPP_CONFIG_DIR", "config"),
        ("FACEAPP_DATA_DIR", "data"),
        ("FACEAPP_LOG_DIR", "log"),
        ("FACEAPP_CACHE_DIR", "cache"),
    ):
        monkeypatch.setenv(var, str(root / sub))
    # "auto" means PyTorch in tests: a per-test cache would convert every model again; the
    # runtime's own tests and the golden tests ask for OpenVINO explicitly
    monkeypatch.setenv("FACEAPP_RUNTIME", "torch")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "xdg_config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "xdg_data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg_cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(root / "xdg_state"))
    yield root


_WRAPPERS = {"gfpgan_v1.4": "params_ema", "codeformer": "params_ema"}


@pytest.fixture(scope="session")
def golden_file(tmp_path_factory: pytest.TempPathFactory):
    """golden_file(name) -> a .pth with regenerated golden weights, wrapped like the real file."""
    import torch

    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            sd, _ = load_golden(name)
            wrapper = _WRAPPERS.get(name)
            path = tmp_path_factory.mktemp("golden") / f"{name}.pth"
            torch.save({wrapper: sd} if wrapper else sd, path)
            made[name] = path
        return made[name]

    return make


def photo_path(*parts: str) -> Path:
    return require_shared("photos", *parts)


def face_regions(result, shape) -> np.ndarray:
    """Pixels that any restored face may touch: the aligned square mapped back, grown by 2."""
    import cv2

    from faceapp.core.faces.alignment import inverse_matrix

    touched = np.zeros(shape[:2], np.uint8)
    for r in result.restored:
        size = r.patch.restored.shape[0]
        corners = np.array([[0, 0, 1], [size, 0, 1], [size, size, 1], [0, size, 1]], float)
        points = corners @ inverse_matrix(r.patch.matrix).T
        cv2.fillConvexPoly(touched, np.round(points).astype(np.int32), 1)
    return cv2.dilate(touched, np.ones((5, 5), np.uint8)).astype(bool)
