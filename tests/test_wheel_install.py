"""A built wheel works without the repository: detector weights, icons and desktop file inside.

The wheel is built offline from a copy of the project (no build isolation, no dependencies),
installed with ``pip install --no-deps --target`` beside this environment's packages, and run
from a folder outside the repository with only that target on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, photo_path

from faceapp.cli import main as cli_main

pytestmark = pytest.mark.slow
SOURCES = ("pyproject.toml", "setup.py", "README.md", "faceapp", "resources")
SHIPPED = (
    "LICENSE-retinaface.txt",
    "faceapp.desktop",
    "icons/faceapp.svg",
    "icons/faceapp-256.png",
    "icons/faceapp.ico",
    "weights/retinaface_mobilenet0.25.pth",
)


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pip --target folder with the freshly built faceapp wheel in it."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    _pip("wheel", ".", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), cwd=source)
    [wheel] = (root / "dist").glob("faceapp-*.whl")
    target = root / "site"
    _pip("install", "--no-deps", "--target", str(target), str(wheel), cwd=root)
    return target


def _files(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _run(installed: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(installed), **env}
    return subprocess.run(
        args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )


def test_the_installed_package_has_its_resources(installed: Path, tmp_path: Path) -> None:
    code = (
        "import json, faceapp; from faceapp.core import paths; "
        "print(json.dumps([faceapp.__file__, str(paths.resources_dir())]))"
    )
    done = _run(installed, [sys.executable, "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    module, resources = (Path(p) for p in json.loads(done.stdout))
    assert module.parent == installed / "faceapp"  # the wheel's copy, not the checkout
    assert resources == installed / "faceapp" / "resources"
    for name in SHIPPED:
        assert (resources / name).is_file(), name
    # Every file of the repository's resources/ is in the wheel (a new one needs setup.py).
    assert _files(resources) == _files(REPO / "resources")
    assert not (installed / "tests").exists() and not (installed / "resources").exists()


@pytest.mark.shared
def test_detect_from_the_wheel_finds_the_same_faces(
    installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = photo_path("group_photos", "dlib__2008_002506.jpg")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    local = outside / photo.name
    shutil.copy2(photo, local)
    done = _run(
        installed, [str(installed / "bin" / "faceapp-cli"), "detect", "--json", local.name], outside
    )
    assert done.returncode == 0, done.stderr
    from_wheel = json.loads(done.stdout)[0]["faces"]

    assert cli_main(["detect", "--json", str(photo)]) == 0  # the checkout's code
    from_checkout = json.loads(capsys.readouterr().out)[0]["faces"]
    assert len(from_wheel) == len(from_checkout) == 3
    assert [f["box"] for f in from_wheel] == [f["box"] for f in from_checkout]


def test_the_window_of_the_wheel_starts(installed: Path, tmp_path: Path) -> None:
    done = _run(
        installed,
        [str(installed / "bin" / "faceapp"), "--quit-after-show"],
        tmp_path,
        QT_QPA_PLATFORM="offscreen",
    )
    assert done.returncode == 0, done.stderr
    assert "window shown after" in done.stdout and "torch loaded: no" in done.stdout
