"""resource() finds resources/ in the source tree and inside a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from faceapp.core import paths

REPO = Path(__file__).resolve().parent.parent
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def test_source_tree_uses_the_repository_resources() -> None:
    shipped = paths.resource("weights", "retinaface_mobilenet0.25.pth")
    assert shipped == REPO / "resources" / "weights" / "retinaface_mobilenet0.25.pth"
    assert shipped.is_file()


def test_frozen_bundle_uses_meipass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"
    assert paths.resource("icons", "faceapp.svg") == tmp_path / "resources/icons/faceapp.svg"


def test_meipass_alone_is_not_a_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == REPO / "resources"


def test_other_freezers_keep_the_package_relative_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert paths.resources_dir() == REPO / "resources"


def test_bundle_resources_are_present() -> None:
    from PIL import Image

    assert "MIT License" in paths.resource("LICENSE-retinaface.txt").read_text()
    assert paths.resource("icons", "faceapp.svg").read_text().lstrip().startswith("<svg")
    for size in ICON_SIZES:
        with Image.open(paths.resource("icons", f"faceapp-{size}.png")) as png:
            assert png.size == (size, size)
    with Image.open(paths.resource("icons", "faceapp.ico")) as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
