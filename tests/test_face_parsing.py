"""Paste-back masks from face parsing: the mask built from label maps, the parser loaded through
the safe loader, and the whole job with golden ParseNet weights installed.

Golden weights are pseudo-random, so their labels mean nothing: mask correctness is tested on
hand-made label maps, and the golden runs check only the plumbing.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import face_regions, photo_path, require_shared

from faceapp.cli import build_parser
from faceapp.cli.restore import RestoreCommand
from faceapp.core import paths
from faceapp.core.errors import UnsupportedModelError
from faceapp.core.faces.alignment import inverse_matrix
from faceapp.core.faces.parsing import (
    BISENET_LABELS,
    FACE_PARTS,
    PARSENET_LABELS,
    envelope,
    face_weights,
    load_face_parser,
    mask_from_labels,
    parse_labels,
)
from faceapp.core.faces.paste import FacePatch, face_mask, paste_faces
from faceapp.core.models import catalog
from faceapp.core.photo.reading import read_photo, to_float
from faceapp.core.pipeline import RestoreOptions, compose, restore_photo
from faceapp.core.runtime.engine import Engine

LABEL_SETS = {"ParseNet": PARSENET_LABELS, "BiSeNet": BISENET_LABELS}
CENTER = (256, 272)  # x, y of the face's middle in a 512 aligned crop
RADIUS = 140


def _face_labels(names: tuple[str, ...], size: int = 512, around: str = "hair") -> np.ndarray:
    """A label map: a disk of skin in the middle of the crop, `around` everywhere else."""
    labels = np.full((size, size), names.index(around), np.uint8)
    s = size / 512
    center = (round(CENTER[0] * s), round(CENTER[1] * s))
    cv2.circle(labels, center, round(RADIUS * s), names.index("skin"), thickness=-1)
    return labels


def _mask(labels: np.ndarray, names: tuple[str, ...], size: int | None = None) -> np.ndarray:
    mask = mask_from_labels(labels, face_weights(names), size or labels.shape[0])
    assert mask is not None
    return mask


def _transition_width(mask: np.ndarray) -> int:
    """Pixels between 0.9 and 0.1 along the row through the face's middle, going right."""
    s = mask.shape[0] / 512
    row = mask[round(CENTER[1] * s), round(CENTER[0] * s) :]
    return int(np.argmax(row < 0.1) - np.argmax(row < 0.9))


# ---------------------------------------------------------------------------------------------
# The mask from a label map


@pytest.mark.parametrize("arch", LABEL_SETS)
def test_mask_covers_the_skin_and_leaves_the_hair(arch: str) -> None:
    names = LABEL_SETS[arch]
    mask = _mask(_face_labels(names), names)
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert mask[CENTER[1], CENTER[0]] == pytest.approx(1.0, abs=1e-3)
    hair = cv2.circle(np.ones((512, 512), np.uint8), CENTER, RADIUS + 50, 0, thickness=-1) > 0
    assert mask[hair].max() < 0.01  # hair 3 blur widths away from the skin keeps the photo
    edge = mask[CENTER[1], CENTER[0] + RADIUS]
    assert 0.3 < edge < 0.7  # the soft edge is centred on the skin's outline
    assert 20 < _transition_width(mask) < 60
    row = mask[CENTER[1], CENTER[0] :]
    assert np.all(np.diff(row) <= 1e-6)  # fades out monotonically, no ring


@pytest.mark.parametrize("arch", LABEL_SETS)
def test_skin_up_to_the_crop_border_still_fades_before_it(arch: str) -> None:
    """A neighbour's cheek or a bald head filling the crop must not paste the square's edge."""
    names = LABEL_SETS[arch]
    mask = _mask(np.full((512, 512), names.index("skin"), np.uint8), names)
    assert mask[0].max() == 0 and mask[-1].max() == 0
    assert mask[:, 0].max() == 0 and mask[:, -1].max() == 0
    assert np.all(mask <= envelope(512))
    assert mask[CENTER[1], CENTER[0]] == pytest.approx(1.0, abs=1e-3)
    assert mask[20:-20, 20:-20].min() == 0  # the corners are cut off: an oval, not a square
    assert mask[CENTER[1], 480] < 0.05  # and it has faded well before the border


@pytest.mark.parametrize("size", [256, 1024])
def test_soft_edge_scales_with_the_face(size: int) -> None:
    names = PARSENET_LABELS
    at_512 = _transition_width(_mask(_face_labels(names), names))
    at_size = _transition_width(_mask(_face_labels(names, size), names))
    assert at_size == pytest.approx(at_512 * size / 512, rel=0.1)
    resized = _mask(_face_labels(names), names, size)  # a 512 parse pasted as a bigger face
    assert resized.shape == (size, size)
    assert _transition_width(resized) == pytest.approx(at_512 * size / 512, rel=0.1)


PART_CASES = [(arch, name) for arch, names in LABEL_SETS.items() for name in names]


@pytest.mark.parametrize(("arch", "part"), PART_CASES, ids=[f"{a}-{p}" for a, p in PART_CASES])
def test_each_label_is_kept_or_dropped(arch: str, part: str) -> None:
    """A 60-pixel patch of each label in the middle of the skin."""
    names = LABEL_SETS[arch]
    labels = _face_labels(names)
    labels[CENTER[1] - 30 : CENTER[1] + 30, CENTER[0] - 30 : CENTER[0] + 30] = names.index(part)
    middle = _mask(labels, names)[CENTER[1], CENTER[0]]
    kept = {"skin", "left_brow", "right_brow", "left_eye", "right_eye", "nose", "mouth"}
    kept |= {"upper_lip", "lower_lip", "eyeglasses", "left_ear", "right_ear"}
    if part in kept:
        assert middle == pytest.approx(1.0, abs=1e-3)
    else:
        assert middle < 0.2


def test_label_orders_agree_with_facexlib() -> None:
    """facexlib's own ParseNet colour map: labels 1-12 are face, 0, 14, 16-18 are not (it also
    keeps hair and earrings, which faceapp leaves to the photo)."""
    colormap = [0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 255, 0, 0, 0]
    weights = face_weights(PARSENET_LABELS)
    for index, colour in enumerate(colormap):
        if PARSENET_LABELS[index] not in ("hair", "earring"):
            assert weights[index] == colour / 255, PARSENET_LABELS[index]
    assert sorted(PARSENET_LABELS) == sorted(BISENET_LABELS) and len(set(BISENET_LABELS)) == 19
    assert set(BISENET_LABELS) >= FACE_PARTS


@pytest.mark.parametrize("skin_radius", [0, 20])
def test_a_parse_without_a_face_falls_back_to_the_oval(skin_radius: int) -> None:
    labels = np.zeros((512, 512), np.uint8)  # background
    if skin_radius:
        cv2.circle(labels, CENTER, skin_radius, PARSENET_LABELS.index("skin"), thickness=-1)
    assert mask_from_labels(labels, face_weights(PARSENET_LABELS), 512) is None


# ---------------------------------------------------------------------------------------------
# Pasting with a mask


def _patch(mask: np.ndarray | None, zoom: float) -> FacePatch:
    """A white 512 face landing `zoom` times its size at (100, 80) of the canvas."""
    matrix = np.array([[1 / zoom, 0, -100 / zoom], [0, 1 / zoom, -80 / zoom]], np.float64)
    return FacePatch(np.ones((512, 512, 3), np.float32), matrix, mask)


@pytest.mark.parametrize("zoom", [1.0, 0.25])  # 0.25: the prefiltered (shrunk) path
def test_paste_uses_the_patch_mask(zoom: float) -> None:
    canvas = np.zeros((800, 800, 3), np.float32)
    nothing = paste_faces(canvas.copy(), [_patch(np.zeros((512, 512), np.float32), zoom)], 1.0)
    assert not nothing.any()
    square = np.zeros((512, 512), np.float32)
    square[200:300, 200:300] = 1
    pasted = paste_faces(canvas.copy(), [_patch(square, zoom)], 1.0)
    inverse = inverse_matrix(_patch(None, zoom).matrix)
    x0, y0 = inverse @ np.array([200, 200, 1.0])
    x1, y1 = inverse @ np.array([300, 300, 1.0])
    changed = np.argwhere(pasted[..., 0] > 0.5)
    assert np.allclose(changed.min(axis=0), (y0, x0), atol=2)
    assert np.allclose(changed.max(axis=0), (y1, x1), atol=2)
    oval = paste_faces(canvas.copy(), [_patch(None, zoom)], 1.0)
    assert (oval[..., 0] > 0.5).sum() > 5 * (pasted[..., 0] > 0.5).sum()


def test_a_mask_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="512 x 512"):
        FacePatch(np.ones((512, 512, 3), np.float32), np.eye(2, 3), np.ones((256, 256)))


def test_mask_option_is_validated() -> None:
    assert RestoreOptions().mask == "auto"
    assert RestoreOptions(mask="oval").mask == "oval"
    with pytest.raises(ValueError, match="'auto' or 'oval'"):
        RestoreOptions(mask="parsing")


def test_cli_mask_option(tmp_path: Path) -> None:
    parser = build_parser()
    assert parser.parse_args(["restore", "a.jpg"]).mask == "auto"
    args = parser.parse_args(["restore", "a.jpg", "--mask", "oval", "--device", "cpu"])
    args.model_file = tmp_path / "face.pth"  # resolved, not loaded, when the command is built
    assert RestoreCommand.from_args(args).options.mask == "oval"
    with pytest.raises(SystemExit):
        parser.parse_args(["restore", "a.jpg", "--mask", "square"])


# ---------------------------------------------------------------------------------------------
# The parsers from files (golden weights), and the engine's choice of parser


def _install(model_id: str, source: Path) -> Path:
    """Put a file where a download would: model_store.import_model refuses parsers."""
    dest = paths.models_dir() / catalog.get_entry(model_id).file_name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest


@pytest.mark.shared
@pytest.mark.parametrize(
    ("arch", "golden"),
    [pytest.param("ParseNet", "parsenet", marks=pytest.mark.slow), ("BiSeNet", "bisenet")],
)
def test_parser_file_loads_and_matches_golden(golden_file, arch: str, golden: str) -> None:
    import json

    name = f"facexlib_{golden}"
    parser = load_face_parser(golden_file(name))
    assert parser.arch == arch and parser.labels == LABEL_SETS[arch]
    assert not parser.module.training
    assert all(p.dtype == torch.float32 for p in parser.module.parameters())
    x = torch.from_numpy(np.load(require_shared("golden", name, "input.npy")))
    with torch.inference_mode():
        out = parser(x).numpy()
    golden_out = np.load(require_shared("golden", name, "output.npy"))
    meta = json.loads(require_shared("golden", name, "meta.json").read_text())
    assert np.abs(out - golden_out).max() <= meta["outputs"]["output"]["suggested_atol"]


@pytest.mark.shared
def test_a_face_model_is_not_a_parser(golden_file) -> None:
    path = golden_file("gpen_bfr_256")
    with pytest.raises(UnsupportedModelError, match=f"'{path.name}' is not a face parsing"):
        load_face_parser(path)


@pytest.mark.shared
@pytest.mark.parametrize("size", [256, 1024])
def test_parse_labels_of_any_face_size(golden_file, size: int) -> None:
    parser = load_face_parser(golden_file("facexlib_bisenet"))
    face = to_float(read_photo(photo_path("gfpgan_inputs", "cropped_faces__Adele_crop.png")).pixels)
    face = cv2.resize(face, (size, size), interpolation=cv2.INTER_LINEAR)
    labels = parse_labels(parser, face)
    assert labels.shape == (512, 512) and labels.dtype == np.uint8
    assert labels.max() < 19 and len(np.unique(labels)) > 1


@pytest.mark.shared
def test_engine_picks_the_installed_parser(golden_file) -> None:
    engine = Engine("cpu")
    assert engine.parser() is None
    _install("parsenet", golden_file("facexlib_parsenet"))
    parsenet = engine.parser()
    assert parsenet is not None and parsenet.arch == "ParseNet"
    assert parsenet.device == engine.device
    assert engine.parser() is parsenet  # loaded once
    _install("bisenet", golden_file("facexlib_bisenet"))
    bisenet = engine.parser()
    assert bisenet is not None and bisenet.arch == "BiSeNet"  # preferred: ~20x faster on CPU


@pytest.mark.shared
def test_a_damaged_parser_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    dest = paths.models_dir() / catalog.get_entry("parsenet").file_name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"<html>404 Not Found</html>")
    with caplog.at_level(logging.WARNING, logger="faceapp.core.runtime.engine"):
        assert Engine("cpu").parser() is None
    assert "parsing_parsenet.pth" in caplog.text


# ---------------------------------------------------------------------------------------------
# The whole job with a parser installed (golden GPEN-256 restores, golden ParseNet parses)


@pytest.fixture(scope="module")
def couple_runs(golden_file, tmp_path_factory: pytest.TempPathFactory):
    """(photo, result with mask auto, result with mask oval) for a photo with two faces."""
    with pytest.MonkeyPatch.context() as mp:
        # module scope runs before the per-test user dirs: redirect them here too
        root = tmp_path_factory.mktemp("couple_userdirs")
        for var in ("MODELS", "CONFIG", "DATA", "LOG", "CACHE"):
            mp.setenv(f"FACEAPP_{var}_DIR", str(root / var.lower()))
        _install("parsenet", golden_file("facexlib_parsenet"))
        engine = Engine("cpu")
        photo = read_photo(photo_path("group_photos", "deepface__couple.jpg"))
        faces = engine.detector().detect(photo.pixels)
        runs = {}
        for mask in ("auto", "oval"):
            options = RestoreOptions(face_model=golden_file("gpen_bfr_256"), mask=mask)
            runs[mask] = restore_photo(engine, photo, options, faces=faces)
    return photo, runs["auto"], runs["oval"]


@pytest.mark.shared
@pytest.mark.slow
def test_auto_mask_comes_from_parsing_and_oval_mask_does_not(couple_runs) -> None:
    _, auto, oval = couple_runs
    assert len(auto.restored) == len(oval.restored) == 2
    for r in auto.restored:
        mask = r.patch.mask
        assert mask is not None and mask.shape == (256, 256) and mask.dtype == np.float32
        assert mask.min() >= 0 and mask.max() <= 1 and mask[0].max() == 0
        assert not np.allclose(mask, face_mask(256), atol=0.05)
    assert all(r.patch.mask is None for r in oval.restored)
    for a, o in zip(auto.restored, oval.restored, strict=True):
        np.testing.assert_array_equal(a.patch.restored, o.patch.restored)  # same network output


@pytest.mark.shared
@pytest.mark.slow
def test_parsing_mask_changes_only_the_faces(couple_runs) -> None:
    photo, auto, oval = couple_runs
    outside = ~face_regions(auto, photo.pixels.shape)
    assert outside.mean() > 0.3
    assert np.array_equal(auto.photo.pixels[outside], photo.pixels[outside])
    assert not np.array_equal(auto.photo.pixels, photo.pixels)
    with_parsing = compose(auto.background, auto.restored, 1.0, 1)
    with_oval = compose(oval.background, oval.restored, 1.0, 1)
    assert np.abs(with_parsing - with_oval).max() > 0.1
    assert np.array_equal(compose(auto.background, auto.restored, 0.0, 1), to_float(photo.pixels))
