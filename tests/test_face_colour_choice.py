"""Each face's own colour in a black-and-white photo: gpen, picture or grey (parsing, the
options' rules, and the neutral paste that keeps a face grey inside a colorized picture)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faceapp.core import pipeline
from faceapp.core.face_settings import FaceSettings, parse_face_settings
from faceapp.core.faces.alignment import alignment_matrix
from faceapp.core.faces.colouring import FaceColour, apply_face_colours, luma
from faceapp.core.faces.selection import Face
from faceapp.core.pipeline import RestoreOptions

GPEN_COLOUR = Path("/m/GPEN-Colorization-1024.pth")
LANDMARKS = np.array([[180, 120], [220, 120], [200, 145], [184, 170], [216, 170]], float)


def _resolve(name: str) -> Path:
    return Path(f"/m/{name}.pth")


def test_colour_parses_in_both_forms(tmp_path: Path) -> None:
    parsed = parse_face_settings("0:colour=GPEN;1:colour=grey,strength=0.5", _resolve)
    assert parsed == {0: FaceSettings(colour="gpen"), 1: FaceSettings(None, 0.5, None, "grey")}
    path = tmp_path / "faces.json"
    path.write_text(json.dumps({"2": {"colour": "picture"}}))
    assert parse_face_settings(str(path), _resolve) == {2: FaceSettings(colour="picture")}


def test_an_unknown_colour_is_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="colour is gpen, picture or grey, not 'blue'"):
        parse_face_settings("0:colour=blue", _resolve)


def test_each_face_gets_its_own_colour_or_the_photos() -> None:
    plain = RestoreOptions(per_face={1: FaceSettings(colour="grey")})
    assert (plain.colour_for(0), plain.colour_for(1)) == ("picture", "grey")
    every = RestoreOptions(face_colour_model=GPEN_COLOUR, per_face={1: FaceSettings(colour="grey")})
    assert (every.colour_for(0), every.colour_for(1)) == ("gpen", "grey")  # --face-colorize
    chosen = RestoreOptions(
        face_colour_model=GPEN_COLOUR,
        face_colour="picture",
        per_face={1: FaceSettings(colour="gpen")},
    )
    assert (chosen.colour_for(0), chosen.colour_for(1)) == ("picture", "gpen")


def test_gpen_colour_without_its_model_is_refused() -> None:
    with pytest.raises(ValueError, match="needs the GPEN-Colorization model"):
        RestoreOptions(per_face={0: FaceSettings(colour="gpen")})


def test_a_gpen_choice_without_the_model_installed_says_so() -> None:
    from faceapp.api import face_colour_fields
    from faceapp.core.errors import FaceappError

    assert face_colour_fields(None, {0: FaceSettings(colour="grey")}) == {}
    with pytest.raises(FaceappError, match="gpen-colorization-1024"):
        face_colour_fields(None, {0: FaceSettings(colour="gpen")})


def test_a_grey_face_loses_the_pictures_colour_and_keeps_its_light() -> None:
    canvas = np.zeros((300, 400, 3), np.float32)
    canvas[...] = np.linspace(0.2, 0.8, 400, dtype=np.float32)[None, :, None]
    canvas[..., 0] += 0.1  # a colorized picture: reddish everywhere
    before = canvas.copy()
    grey = FaceColour(0, alignment_matrix(LANDMARKS, 512))
    apply_face_colours(canvas, [grey])
    np.testing.assert_allclose(luma(canvas), luma(before), atol=2e-3)
    centre = canvas[140:150, 195:205]
    assert np.abs(centre - luma(centre)[..., None]).max() < 0.01  # no chroma left
    np.testing.assert_array_equal(canvas[:, :60], before[:, :60])  # far away: untouched
    edge = canvas[145, 120:200]  # the chroma fades in: no hard step at the face's edge
    chroma = edge[:, 0] - edge[:, 1]
    assert np.abs(np.diff(chroma)).max() < 0.02


def test_a_face_colour_fades_with_the_colour_strength_and_keeps_the_light() -> None:
    canvas = np.full((300, 400, 3), 0.5, np.float32)  # a grey picture
    coloured = np.zeros((512, 512, 3), np.float32)
    coloured[...] = (0.7, 0.45, 0.35)  # skin-like, luminance about 0.5
    face = FaceColour(0, alignment_matrix(LANDMARKS, 512), coloured)
    chroma = {}
    for strength in (1.0, 0.3, 0.0):
        image = canvas.copy()
        apply_face_colours(image, [face], strength)
        np.testing.assert_allclose(luma(image), luma(canvas), atol=2e-3)
        centre = image[140:150, 195:205]
        chroma[strength] = float(np.abs(centre - luma(centre)[..., None]).max())
    assert chroma[1.0] > 0.1
    assert chroma[0.3] == pytest.approx(0.3 * chroma[1.0], rel=0.05)
    assert chroma[0.0] < 1e-3


class _Engine:
    def face_model(self, path, progress=None, cancel=None):
        return ("model", path)


def _faces(count: int) -> list[Face]:
    return [Face((0, 0, 10, 10), 1.0, LANDMARKS + 100 * i, i) for i in range(count)]


def test_without_a_picture_colorizer_picture_faces_stay_grey_next_to_gpen_ones(
    monkeypatch,
) -> None:
    seen = []
    monkeypatch.setattr(
        pipeline,
        "face_colours",
        lambda engine, model, image, faces, choices, cancel: seen.append((model, choices)) or [],
    )
    options = RestoreOptions(
        face_colour_model=GPEN_COLOUR,
        face_colour="picture",
        per_face={0: FaceSettings(colour="gpen")},
    )
    image = np.zeros((8, 8, 3), np.float32)
    pipeline.colour_each_face(_Engine(), image, _faces(2), options)
    assert seen == [(("model", GPEN_COLOUR), ["gpen", "grey"])]
    seen.clear()
    grey_only = RestoreOptions(per_face={0: FaceSettings(colour="grey")})
    assert pipeline.colour_each_face(_Engine(), image, _faces(2), grey_only) == []
    assert seen == []  # an uncoloured grey photo: nothing to do


@pytest.mark.shared
@pytest.mark.slow
def test_cli_colours_the_chosen_face_only_and_keeps_the_light(tmp_path, golden_file) -> None:
    from conftest import photo_path
    from PIL import Image

    from faceapp.cli import main

    assert main(["models", "import", str(golden_file("gpen_bfr_1024")), "--as", COLOUR_ID]) == 0
    image = Image.open(photo_path("group_photos", "deepface__couple.jpg")).convert("L")
    image.thumbnail((420, 420))
    source, out = tmp_path / "grey.png", tmp_path / "out.png"
    image.save(source)
    args = ["restore", str(source), "--faces", "none", "--face-settings", "1:colour=gpen"]
    assert main([*args, "--output", str(out)]) == 0
    result = np.asarray(Image.open(out)).astype(int)
    grey = np.asarray(image).astype(int)
    assert result.shape == (*grey.shape, 3)
    spread = result.max(axis=2) - result.min(axis=2)
    assert np.abs(result @ np.array([0.299, 0.587, 0.114]) - grey).max() <= 1.5
    left_grey, coloured = _spread_in_faces(source, spread)
    assert coloured > 8  # face 1: GPEN's colour
    assert left_grey <= 1  # face 0: no picture colour and no GPEN: grey


COLOUR_ID = "gpen-colorization-1024"


def _spread_in_faces(source: Path, spread: np.ndarray) -> list[float]:
    """The mean colour spread in the middle of each detected face, in detect's order."""
    import faceapp

    faces = faceapp.detect(source)
    means = []
    for face in faces:
        x0, y0, x1, y1 = (int(v) for v in face.box)
        dx, dy = (x1 - x0) // 3, (y1 - y0) // 3
        means.append(float(spread[y0 + dy : y1 - dy, x0 + dx : x1 - dx].mean()))
    return means
