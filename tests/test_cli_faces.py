"""The command line's per-face features: quality in `detect --json`, `--faces auto`, and the
warning for photos faceapp already restored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path

from faceapp.cli import main
from faceapp.core.photo.reading import read_photo

pytestmark = pytest.mark.shared


def _detect(path: Path, capsys) -> list[dict]:
    assert main(["detect", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)[0]["faces"]


def test_detect_reports_each_faces_quality(capsys) -> None:
    faces = _detect(photo_path("group_photos", "deepface__couple.jpg"), capsys)
    assert len(faces) == 2
    for face in faces:
        assert 0.0 <= face["quality"] <= 1.0
        assert face["needs_restoring"] == (face["quality_label"] != "sharp")
        assert face["needs_restoring"] == (face["quality"] < 0.5)
    assert {f["needs_restoring"] for f in faces} == {True, False}  # one sharp, one soft


@pytest.mark.slow
def test_faces_auto_restores_only_the_faces_that_need_it(tmp_path, golden_file, capsys) -> None:
    source = photo_path("group_photos", "deepface__couple.jpg")
    needing = [f["index"] for f in _detect(source, capsys) if f["needs_restoring"]]
    out = tmp_path / "auto.png"
    args = ["restore", str(source), "--faces", "auto", "--output", str(out), "--json"]
    assert main([*args, "--model-file", str(golden_file("gpen_bfr_256"))]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    assert summary["restored"] == needing and summary["faces"] == 2

    written, original = read_photo(out).pixels, read_photo(source).pixels
    for face in _detect(source, capsys):
        x0, y0, x1, y1 = (int(v) for v in face["box"])
        changed = not np.array_equal(written[y0:y1, x0:x1], original[y0:y1, x0:x1])
        assert changed == face["needs_restoring"]

    assert main(["detect", str(out)]) == 0  # a faceapp result: a warning, still detected
    err = capsys.readouterr().err
    assert "already restored (faceapp" in err and "gpen_bfr_256" in err
    assert "look artificial" in err
