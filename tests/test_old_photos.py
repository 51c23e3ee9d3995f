"""Repair and colour through the restoration job, the Python API and faceapp-cli.

Golden (pseudo-random) LaMa and DDColor weights stand in for the real files: the colours they
make are meaningless, but every convention (official pipeline, strength, luminance, masks,
cells) is checked against the official outputs or against the direct model call.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import load_golden, require_shared
from PIL import Image

import faceapp
from faceapp.cli import main
from faceapp.core.colour import colorize
from faceapp.core.colour.detect import is_black_and_white
from faceapp.core.photo.reading import photo_from_array, to_float
from faceapp.core.pipeline import RestoreOptions, recolour, restore_photo
from faceapp.core.repair import inpaint, lama
from faceapp.core.runtime.engine import Engine

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    sd, _ = load_golden("ddcolor_paper_tiny")
    path = tmp_path_factory.mktemp("ddcolor") / "ddcolor_paper_tiny.pth"
    torch.save({"params": sd}, path)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def lama_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    sd, _ = load_golden("lama_big")
    path = tmp_path_factory.mktemp("lama") / "big-lama.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in sd.items()}, "epoch": 1}, path)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def engine() -> Engine:
    # PyTorch named: a module-scoped fixture is made before conftest sets FACEAPP_RUNTIME, so
    # "auto" would convert LaMa for OpenVINO here (a minute); test_runtime_old_photos does that
    return Engine("cpu", "torch")


def _golden_case() -> tuple[np.ndarray, np.ndarray]:
    """The official pipeline's grey 200x288 input (RGB) and its 8-bit output (RGB)."""
    bgr = np.load(require_shared("golden", "ddcolor_paper_tiny", "pipeline_input_bgr.npy"))
    out = np.load(require_shared("golden", "ddcolor_paper_tiny", "pipeline_output_bgr.npy"))
    official = (np.clip(out, 0, 1) * 255.0).round().astype(np.uint8)
    return bgr[:, :, ::-1].copy(), official[:, :, ::-1].copy()


def _colour_options(path: Path, strength: float = 1.0) -> RestoreOptions:
    return RestoreOptions(colorize_model=path, colorize_size=256, color_strength=strength)


# ---------------------------------------------------------------------------------------------
# Colour


def test_colorize_at_full_strength_equals_the_official_pipeline(engine, tiny_path) -> None:
    rgb, official = _golden_case()
    photo = photo_from_array(rgb)
    assert is_black_and_white(rgb)
    result = restore_photo(engine, photo, _colour_options(tiny_path), faces=[])
    assert not result.photo.grayscale
    deviation = np.abs(result.photo.pixels.astype(int) - official.astype(int)).max()
    assert deviation <= 1


def test_colour_strength_reblends_without_the_network(engine, tiny_path, monkeypatch) -> None:
    rgb, _ = _golden_case()
    photo = photo_from_array(rgb)
    result = restore_photo(engine, photo, _colour_options(tiny_path, 0.5), faces=[])
    assert result.colour is not None and result.colour.ab.shape == (256, 256, 2)
    monkeypatch.setattr(Engine, "colorizer", lambda *_: pytest.fail("network ran again"))
    image = to_float(photo.pixels)
    half = recolour(image, result.colour, 0.5)
    np.testing.assert_allclose(half, to_float(result.photo.pixels), atol=0.5 / 255 + 1e-6)
    grey = recolour(image, result.colour, 0.0)
    assert np.abs(grey - grey[:, :, :1]).max() < 2e-3  # strength 0 = grey
    full = recolour(image, result.colour, 1.0)
    saturation = [float(np.abs(x - x.mean(axis=2, keepdims=True)).mean()) for x in (half, full)]
    assert 0 < saturation[0] < saturation[1]
    lightness = [cv2.cvtColor(x, cv2.COLOR_RGB2Lab)[:, :, 0] for x in (image, half, full)]
    assert max(np.abs(lightness[0] - x).max() for x in lightness[1:]) < 1.0  # L is the photo's


def test_nearest_upsampling_in_bands_equals_torch_on_a_tall_photo() -> None:
    prediction = colorize.ColourPrediction(np.random.default_rng(0).random((32, 32, 2), np.float32))
    bgr = np.random.default_rng(1).random((700, 45, 3), np.float32)
    out = colorize.apply(prediction, bgr)
    ab = torch.from_numpy(prediction.ab.transpose(2, 0, 1))[None]
    up = torch.nn.functional.interpolate(ab, size=(700, 45))[0].numpy().transpose(1, 2, 0)
    lightness = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab)[:, :, :1]
    expected = cv2.cvtColor(np.concatenate((lightness, up), -1), cv2.COLOR_LAB2BGR)
    np.testing.assert_array_equal(out, expected)


def test_black_and_white_is_detected_from_the_pixels() -> None:
    for name in ("old_w_scratch__b.png", "old_w_scratch__c.png", "old_w_scratch__d.png"):
        sepia = cv2.imread(str(require_shared("photos", "old_photos", name)))[:, :, ::-1]
        assert is_black_and_white(sepia), name  # toned prints count as black and white
    for name in ("old__b.png", "old__c.png", "old__f.png"):
        colour = cv2.imread(str(require_shared("photos", "old_photos", name)))[:, :, ::-1]
        assert not is_black_and_white(colour), name
    assert is_black_and_white(np.full((20, 20), 128, np.uint8))


# ---------------------------------------------------------------------------------------------
# Repair


def _scratched(height: int = 300, width: int = 420) -> tuple[np.ndarray, np.ndarray]:
    ramp = np.tile(np.linspace(0.25, 0.75, width, dtype=np.float32), (height, 1))
    image = np.dstack([ramp, ramp * 0.9, ramp * 0.8])
    mask = np.zeros((height, width), np.uint8)
    cv2.line(mask, (10, 20), (width - 30, height - 40), 255, 3)
    cv2.circle(mask, (width // 3, height // 2), 4, 255, -1)
    damaged = image.copy()
    damaged[mask > 0] = 1.0
    return damaged, mask


def test_opencv_repair_fills_only_the_mask() -> None:
    damaged, mask = _scratched()
    out = inpaint.repair(damaged, mask)
    np.testing.assert_array_equal(out[mask == 0], damaged[mask == 0])
    clean, _ = _scratched()
    clean[:] = np.tile(np.linspace(0.25, 0.75, 420, dtype=np.float32), (300, 1))[..., None] * [
        1.0,
        0.9,
        0.8,
    ]
    assert np.abs(out[mask > 0] - clean[mask > 0]).max() < 0.03  # a smooth ramp comes back


def test_lama_repair_in_one_cell_is_the_official_call(engine, lama_path) -> None:
    damaged, mask = _scratched(200, 250)
    model = engine.inpainter(lama_path)
    out = inpaint.repair(damaged, mask, model)
    np.testing.assert_array_equal(out, lama.inpaint(model, damaged, mask))


def test_lama_repair_in_cells_keeps_the_rest_untouched(engine, lama_path) -> None:
    damaged, mask = _scratched(300, 700)  # two cells of 512 with context
    seen = []
    out = inpaint.repair(damaged, mask, engine.inpainter(lama_path), lambda d, t: seen.append(t))
    np.testing.assert_array_equal(out[mask == 0], damaged[mask == 0])
    assert seen[-1] == 2 and np.isfinite(out).all()


def test_a_mask_of_another_size_is_refused_or_scaled() -> None:
    damaged, mask = _scratched(300, 420)
    half = cv2.resize(mask, (210, 150), interpolation=cv2.INTER_NEAREST)
    assert inpaint.fit_mask(half, (300, 420)).shape == (300, 420)
    with pytest.raises(faceapp.core.errors.FaceappError, match="same shape"):
        inpaint.fit_mask(mask[:, :200], (300, 420))


# ---------------------------------------------------------------------------------------------
# API and CLI


def _scratched_portrait() -> tuple[np.ndarray, np.ndarray]:
    """The golden grey portrait (8-bit, 200x288) with a white scratch, and the scratch."""
    grey = _golden_case()[0][:, :, 0].copy()
    mask = np.zeros_like(grey)
    cv2.line(mask, (5, 30), (280, 170), 255, 2)
    grey[mask > 0] = 255
    return grey, mask


def test_api_repairs_and_colours_without_a_face_model(tiny_path) -> None:
    grey, mask = _scratched_portrait()
    result = faceapp.restore(
        grey,
        faces="none",
        repair=mask,
        colorize_model_file=tiny_path,
        colorize_size=256,
        device="cpu",
    )
    assert result.image.shape == (200, 288, 3)  # a grey input comes back in colour
    assert _warmth(result.image) > 1.0  # golden weights predict a faint yellow (b* > 0)
    assert result.image[mask > 0].max(axis=1).mean() < 200  # the white scratch is gone


def _warmth(rgb: np.ndarray) -> float:
    """Mean red minus blue, in levels: 0 for a grey picture."""
    return float(rgb[:, :, 0].astype(float).mean() - rgb[:, :, 2].astype(float).mean())


def _write(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


def test_cli_scratches_writes_the_proposed_mask(tmp_path: Path) -> None:
    damaged, drawn = _scratched()
    photo = _write(tmp_path / "scan.png", (damaged * 255).round().astype(np.uint8))
    assert main(["scratches", str(photo), "-o", str(tmp_path / "masks"), "--device", "cpu"]) == 0
    mask = np.asarray(Image.open(tmp_path / "masks" / "scan_scratches.png"))
    assert mask.shape == drawn.shape and set(np.unique(mask)) <= {0, 255}
    assert (mask[drawn > 0] > 0).mean() > 0.9
    assert (mask[drawn == 0] > 0).mean() < 0.01


def test_cli_restore_repairs_with_a_mask_and_colours(tmp_path: Path, tiny_path: Path) -> None:
    grey, drawn = _scratched_portrait()
    photo = _write(tmp_path / "scan.png", np.dstack([grey] * 3))
    mask = _write(tmp_path / "mask.png", drawn)
    out = tmp_path / "out.png"
    argv = ["restore", str(photo), "--output", str(out), "--faces", "none", "--device", "cpu"]
    argv += ["--repair", str(mask), "--colorize-model-file", str(tiny_path)]
    argv += ["--colorize-size", "256", "--color-strength", "0.7"]
    assert main(argv) == 0
    result = np.asarray(Image.open(out))
    assert result.shape == (200, 288, 3)
    assert result[drawn > 0].max(axis=1).mean() < 200
    assert _warmth(result) > 1.0


def test_cli_refuses_a_bad_colorize_size(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["restore", "x.png", "--colorize", "--colorize-size", "100"])
    assert "multiple of 32" in capsys.readouterr().err
