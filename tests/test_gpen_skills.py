"""GPEN's colouring and completing of faces: the maths, then end to end through the CLI with
golden GPEN-1024 weights saved the way the released files are (a plain state dict)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import photo_path, require_shared
from PIL import Image

from faceapp.cli import main
from faceapp.core.faces.alignment import alignment_matrix
from faceapp.core.faces.colouring import keep_luminance, luma, paste_face_colour
from faceapp.core.faces.completion import damage_in_face, paint_white, paste_completed
from faceapp.core.models import catalog
from faceapp.core.models.loading import load_face_model

# Rec. 601 YUV written out by hand (not through OpenCV) for the expected values.
_TO_RGB = np.array([[1.0, 0.0, 1.13983], [1.0, -0.39465, -0.58060], [1.0, 2.03211, 0.0]])


def _yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([y, u - 0.5, v - 0.5], axis=-1) @ _TO_RGB.T


def _chroma(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = rgb @ np.array([0.299, 0.587, 0.114])
    return 0.492 * (rgb[..., 2] - y) + 0.5, 0.877 * (rgb[..., 0] - y) + 0.5


# ------------------------------------------------------------------------------------ maths


def test_keep_luminance_keeps_the_grey_and_takes_the_colour() -> None:
    rng = np.random.default_rng(0)
    colour = rng.uniform(0.3, 0.7, (32, 32, 3)).astype(np.float32)
    grey = rng.uniform(0.4, 0.6, (32, 32)).astype(np.float32)
    out = keep_luminance(colour, grey)
    np.testing.assert_allclose(luma(out), grey, atol=2e-3)
    u, v = _chroma(colour.astype(np.float64))
    np.testing.assert_allclose(out, _yuv_to_rgb(grey, u, v), atol=2e-3)


def test_face_colour_changes_no_luminance_and_nothing_far_from_the_face() -> None:
    rng = np.random.default_rng(1)
    canvas = np.repeat(rng.uniform(0.2, 0.8, (300, 400, 1)), 3, axis=2).astype(np.float32)
    before = canvas.copy()
    landmarks = np.array([[180, 120], [220, 120], [200, 145], [184, 170], [216, 170]], float)
    matrix = alignment_matrix(landmarks, 256)
    red = np.zeros((256, 256, 3), np.float32)
    red[..., 0] = 1.0
    paste_face_colour(canvas, red, matrix)
    np.testing.assert_allclose(luma(canvas), luma(before), atol=2e-3)
    assert canvas[145, 200, 0] > canvas[145, 200, 1] + 0.05  # the face turned reddish
    np.testing.assert_array_equal(canvas[:, :60], before[:, :60])  # far away: untouched


def test_damage_is_painted_white_and_only_damaged_pixels_are_replaced() -> None:
    damage = np.zeros((300, 400), bool)
    damage[140:146, 150:260] = True  # a scratch across the face
    landmarks = np.array([[180, 120], [220, 120], [200, 145], [184, 170], [216, 170]], float)
    matrix = alignment_matrix(landmarks, 512)
    damaged = damage_in_face(damage, matrix, 512)
    assert 0 < damaged.mean() < 0.2
    crop = np.full((512, 512, 3), 0.3, np.float32)
    painted = paint_white(crop, damaged)
    assert (painted[damaged] == 1.0).all() and (painted[~damaged] == 0.3).all()
    canvas = np.full((300, 400, 3), 0.3, np.float32)
    paste_completed(canvas, np.full((512, 512, 3), 0.9, np.float32), matrix, damaged)
    assert np.allclose(canvas[damage], 0.9, atol=0.02)
    far = np.ones_like(damage)
    far[130:156, 140:270] = False
    assert (canvas[far] == 0.3).all()


def test_the_three_gpen_1024_files_are_distinct_catalog_models() -> None:
    entries = {e.id: e for e in catalog.catalog()}
    colour, complete = entries["gpen-colorization-1024"], entries["gpen-inpainting-1024"]
    assert (colour.task, complete.task) == (catalog.COLORIZE, catalog.COMPLETE)
    for entry in (colour, complete):
        assert entry.arch == "GPEN" and entry.input_size == 1024 and entry.downloadable
        assert entry.commercial_use is False and not entry.restores_faces
        assert entry.urls[0].endswith(entry.file_name)
    assert entries["gpen-bfr-1024"].restores_faces


# ------------------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def gpen_1024(golden_file):
    path = golden_file("gpen_bfr_1024")
    face = load_face_model(path)
    return path, face


def _network(face, rgb: np.ndarray) -> np.ndarray:
    """The golden network on an aligned 1024 face, with GPEN's official in/out mapping."""
    x = torch.from_numpy(rgb.transpose(2, 0, 1).copy()).unsqueeze(0).float() * 2 - 1
    with torch.inference_mode():
        y = face(x)[0].clamp(-1, 1)
    return ((y + 1) / 2).numpy().transpose(1, 2, 0)


def _golden_face_8bit() -> np.ndarray:
    x = np.load(require_shared("golden", "gpen_bfr_1024", "input.npy"))[0]
    return np.round((x.transpose(1, 2, 0) + 1) / 2 * 255).astype(np.uint8)


def _import(file, as_id: str) -> None:
    assert main(["models", "import", str(file), "--as", as_id]) == 0


@pytest.mark.shared
@pytest.mark.slow
def test_a_gpen_1024_file_must_be_named_when_imported(gpen_1024, capsys) -> None:
    assert main(["models", "import", str(gpen_1024[0])]) != 0
    message = capsys.readouterr().err
    for model_id in ("gpen-bfr-1024", "gpen-colorization-1024", "gpen-inpainting-1024"):
        assert model_id in message
    assert "--as" in message


@pytest.mark.shared
@pytest.mark.slow
def test_cli_colours_a_grey_face_keeping_its_luminance(tmp_path, gpen_1024) -> None:
    path, face = gpen_1024
    _import(path, "gpen-colorization-1024")
    grey = np.round(_golden_face_8bit() @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    source = tmp_path / "grey.png"
    Image.fromarray(grey, mode="L").save(source)
    out = tmp_path / "out.png"
    args = ["restore", str(source), "--aligned", "--faces", "none", "--face-colorize", "gpen"]
    assert main([*args, "--output", str(out)]) == 0
    result = np.asarray(Image.open(out)).astype(np.float64)
    assert result.shape == (1024, 1024, 3)  # a grey photo came out in colour
    assert np.abs(result[..., 0] - result[..., 2]).mean() > 1
    g = grey / 255.0
    colour = _network(face, np.repeat(g[..., None], 3, axis=2).astype(np.float32))
    u, v = _chroma(colour.astype(np.float64))
    expected = _yuv_to_rgb(g, u, v) * 255
    fits = ((expected >= 0) & (expected <= 255)).all(axis=2)  # else desaturated to fit
    assert fits.mean() > 0.05
    assert np.abs(result - expected)[fits].max() <= 2
    y = result @ np.array([0.299, 0.587, 0.114])
    assert np.abs(y - grey).max() <= 1.5  # everywhere, colours that did not fit included


@pytest.mark.shared
@pytest.mark.slow
def test_cli_completes_the_white_strokes_and_nothing_else(tmp_path, gpen_1024) -> None:
    path, face = gpen_1024
    _import(path, "gpen-inpainting-1024")
    pixels = _golden_face_8bit()
    source, mask_file, out = tmp_path / "face.png", tmp_path / "mask.png", tmp_path / "out.png"
    Image.fromarray(pixels).save(source)
    hole = np.zeros((1024, 1024), np.uint8)
    hole[400:440, 200:820] = 255  # a scratch across the eyes
    Image.fromarray(hole).save(mask_file)
    args = ["restore", str(source), "--aligned", "--faces", "none", "--face-complete", "gpen"]
    assert main([*args, "--repair", str(mask_file), "--output", str(out)]) == 0
    result = np.asarray(Image.open(out)).astype(np.float64)
    damaged = hole > 0
    np.testing.assert_array_equal(result[~damaged], pixels[~damaged])
    white = pixels / 255.0
    white[damaged] = 1.0  # GPEN-Inpainting's convention: white brush strokes
    expected = _network(face, white.astype(np.float32)) * 255
    assert np.abs(result[damaged] - np.round(expected[damaged])).max() <= 1


@pytest.mark.shared
@pytest.mark.slow
def test_cli_colours_the_faces_of_a_grey_photo_and_keeps_its_light(tmp_path, gpen_1024) -> None:
    _import(gpen_1024[0], "gpen-colorization-1024")
    rgb = np.asarray(Image.open(photo_path("misc_faces", "deepface__img3.jpg")).convert("L"))
    source, out = tmp_path / "grey.png", tmp_path / "out.png"
    Image.fromarray(rgb).save(source)
    args = ["restore", str(source), "--faces", "none", "--face-colorize", "gpen"]
    assert main([*args, "--output", str(out)]) == 0
    result = np.asarray(Image.open(out)).astype(np.float64)
    assert result.shape == (*rgb.shape, 3)
    spread = result.max(axis=2) - result.min(axis=2)
    assert spread.max() > 20  # faces got colour
    assert (spread[:, :5] < 2).all() or (spread[:5] < 2).all()  # the photo's edges stay grey
    y = result @ np.array([0.299, 0.587, 0.114])
    assert np.abs(y - rgb).max() <= 1.5


def test_a_damage_mask_of_another_size_is_refused_clearly(tmp_path) -> None:
    import faceapp
    from faceapp.core.errors import FaceappError

    photo = np.zeros((64, 80, 3), np.uint8)
    with pytest.raises(FaceappError, match="damage mask is 40 × 30 pixels but the photo is 80"):
        faceapp.restore(
            photo,
            faces="none",
            face_complete=tmp_path / "never-loaded.pth",
            repair=np.ones((30, 40), bool),
        )


def test_completing_faces_needs_to_know_where_the_damage_is(tmp_path) -> None:
    import faceapp

    with pytest.raises(ValueError, match="Completing faces needs to know where the damage is"):
        faceapp.restore(np.zeros((8, 8, 3), np.uint8), faces="none", face_complete=tmp_path)


def test_colouring_and_completing_models_are_not_offered_as_restoration_models() -> None:
    from faceapp.core import paths
    from faceapp.core.compare import installed_face_models

    folder = paths.models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("GPEN-Colorization-1024.pth", "GPEN-Inpainting-1024.pth", "GPEN-BFR-256.pth"):
        (folder / name).write_bytes(b"installed")
    assert [model_id for model_id, _ in installed_face_models()] == ["gpen-bfr-256"]
