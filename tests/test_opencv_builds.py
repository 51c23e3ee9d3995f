"""faceapp works with either OpenCV build, or both: facexlib depends on the full
`opencv-python`, whose cv2 points Qt at its own Qt 5 plugins (QT_QPA_PLATFORM_PLUGIN_PATH).

Each case is a folder with the wheels unpacked as pip would install them (both builds share the
`cv2` folder: the one installed last wins its files), put first on PYTHONPATH of a subprocess
that starts the window offscreen, finds faces in a photo and runs `faceapp-cli detect`.
The wheels (the version this environment has) are fetched once from the package index into
.test-cache/ (git-ignored) and reused.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, _in_ci, photo_path

pytestmark = [pytest.mark.slow, pytest.mark.shared]
CACHE = REPO / ".test-cache" / "opencv"
FULL, HEADLESS = "opencv-python", "opencv-python-headless"
CASES = {  # wheels in the order they are installed
    "full only": (FULL,),
    "headless only": (HEADLESS,),
    "both, full last": (HEADLESS, FULL),
    "both, headless last": (FULL, HEADLESS),
}


def _opencv_version() -> str:
    for dist in (HEADLESS, FULL):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    pytest.skip("no OpenCV installed")


def _wheel(dist: str, version: str) -> Path:
    folder = CACHE / "wheels"
    pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
    found = sorted(folder.glob(pattern))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        command += ["--disable-pip-version-check", "-d", str(folder), f"{dist}=={version}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        found = sorted(folder.glob(pattern))
        if done.returncode != 0 or not found:
            message = f"cannot fetch {dist}=={version}: {done.stderr.strip()[-300:]}"
            pytest.fail(message) if _in_ci() else pytest.skip(message)
    return found[0]


def _site(case: str) -> Path:
    """The case's folder: its wheels unpacked in order, each overwriting shared files."""
    site = CACHE / case.replace(", ", "-").replace(" ", "-")
    done = site / ".complete"
    if not done.exists():
        version = _opencv_version()
        for dist in CASES[case]:
            with zipfile.ZipFile(_wheel(dist, version)) as wheel:
                wheel.extractall(site)
        done.touch()
    return site


@pytest.mark.parametrize("case", list(CASES))
def test_the_app_works_with_this_opencv(case: str, tmp_path: Path) -> None:
    site = _site(case)
    photo = photo_path("group_photos", "dlib__2008_002506.jpg")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env |= {"PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), "QT_QPA_PLATFORM": "offscreen"}
    probe = [sys.executable, str(REPO / "tests" / "opencv_probe.py"), str(photo)]
    done = subprocess.run(probe, capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(report["cv2"]).is_relative_to(site)  # the case's cv2, not the environment's
    assert report["platform"] == "offscreen" and report["exit"] == 0
    assert report["plugin_path"] is None and report["font_dir"] is None
    assert (report["window_status"], report["window_faces"]) == ("READY", 3)
    assert (report["cli_exit"], report["cli_faces"]) == (0, 3)
