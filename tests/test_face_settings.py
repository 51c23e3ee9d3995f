"""Per-face settings: parsing, and each face restored and exported with its own model and
strength (golden GPEN-256 and CodeFormer weights on a real two-face photo)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path

from faceapp.cli import main
from faceapp.core.face_settings import FaceSettings, parse_face_settings
from faceapp.core.photo.reading import read_photo, to_float

MODELS = {"codeformer": Path("/m/codeformer.pth"), "gpen": Path("/m/gpen.pth")}


def _resolve(name: str) -> Path:
    if name not in MODELS:
        raise ValueError(f"unknown model {name}")
    return MODELS[name]


def test_the_compact_form_parses() -> None:
    parsed = parse_face_settings("0:model=codeformer,fidelity=0.7; 2:strength=0.5", _resolve)
    assert parsed == {
        0: FaceSettings(MODELS["codeformer"], None, 0.7),
        2: FaceSettings(None, 0.5, None),
    }


def test_a_json_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "faces.json"
    path.write_text(json.dumps({"1": {"model": "gpen", "strength": 0.25}}))
    assert parse_face_settings(str(path), _resolve) == {1: FaceSettings(MODELS["gpen"], 0.25)}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x:strength=0.5", "not a face number"),
        ("-1:strength=0.5", "not a face number"),
        ("0:strength", "key=value"),
        ("0:colour=red", "colour is gpen, picture or grey, not .red."),
        ("0:tint=red", "unknown setting tint"),
        ("0:strength=lots", "not a number"),
        ("0:strength=1.5", "from 0 to 1"),
        ("0:model=nope", "unknown model nope"),
        ("missing.json", "Cannot read"),
    ],
)
def test_bad_settings_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_face_settings(text, _resolve)


def test_settings_fall_back_to_the_photos_own() -> None:
    from faceapp.core.pipeline import RestoreOptions

    options = RestoreOptions(
        face_model=MODELS["gpen"],
        strength=0.8,
        fidelity=0.5,
        per_face={1: FaceSettings(MODELS["codeformer"], None, 0.9)},
    )
    assert options.settings_for(0) == FaceSettings(MODELS["gpen"], 0.8, 0.5)
    assert options.settings_for(1) == FaceSettings(MODELS["codeformer"], 0.8, 0.9)


@pytest.mark.shared
@pytest.mark.slow
def test_the_export_uses_each_faces_model_and_strength(tmp_path: Path, golden_file) -> None:
    """Face 0: GPEN-256 at its own strength 0 (left as it was); face 1: CodeFormer at the
    global strength. The written file shows exactly that."""
    from faceapp.core.pipeline import RestoreOptions, restore_photo
    from faceapp.core.runtime.engine import Engine

    source = photo_path("group_photos", "deepface__couple.jpg")
    gpen, codeformer = golden_file("gpen_bfr_256"), golden_file("codeformer")
    settings = f"0:strength=0;1:model={codeformer},fidelity=0.7"
    out = tmp_path / "out.png"
    args = ["restore", str(source), "--model-file", str(gpen), "--face-settings", settings]
    assert main([*args, "--output", str(out)]) == 0

    per_face = parse_face_settings(settings, Path)
    options = RestoreOptions(face_model=gpen, per_face=per_face)
    result = restore_photo(Engine("cpu"), read_photo(source), options)
    sizes = [r.patch.restored.shape[0] for r in result.restored]
    assert sizes == [256, 512]  # GPEN-256 for face 0, CodeFormer (512) for face 1
    assert [r.strength for r in result.restored] == [0.0, None]

    written = read_photo(out)
    original = read_photo(source).pixels
    assert "restored: codeformer.pth, gpen_bfr_256.pth" in written.restored_with
    diff = np.abs(to_float(written.pixels) - to_float(original)).max(axis=2)
    for restored, changed in zip(result.restored, (False, True), strict=True):
        x0, y0, x1, y1 = (int(v) for v in restored.face.box)
        assert (diff[y0:y1, x0:x1].max() > 0.05) == changed
    assert np.array_equal(written.pixels, result.photo.pixels)


def test_the_api_takes_the_same_settings(tmp_path: Path) -> None:
    from faceapp.api import _per_face

    model = tmp_path / "mine.pth"
    model.write_bytes(b"")
    expected = {0: FaceSettings(model, None, 0.7), 2: FaceSettings(None, 0.5, None)}
    assert _per_face({0: {"model": str(model), "fidelity": 0.7}, 2: {"strength": 0.5}}) == expected
    assert _per_face(f"0:model={model},fidelity=0.7;2:strength=0.5") == expected
    with pytest.raises(ValueError, match="no-such-model"):
        _per_face({0: {"model": "no-such-model"}})
