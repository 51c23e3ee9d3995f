"""The restoration job end to end, with golden GFPGAN weights and the real small upscaler."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import face_regions, photo_path, require_shared

from faceapp.core.background import lanczos, upscale_with_model
from faceapp.core.errors import Cancelled
from faceapp.core.faces.paste import face_mask
from faceapp.core.models.loading import load_upscale_model
from faceapp.core.photo.reading import photo_from_array, read_photo, to_float
from faceapp.core.pipeline import RestoreOptions, compose, restore_photo
from faceapp.core.progress import CancelToken
from faceapp.core.runtime.engine import Engine

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def engine() -> Engine:
    # made before the per-test fixture sets FACEAPP_RUNTIME=torch: say PyTorch here, or "auto"
    # converts every model to OpenVINO again in each test's own cache
    return Engine("cpu", "torch")


@pytest.fixture(scope="module")
def couple(engine: Engine, golden_file):
    photo = read_photo(photo_path("group_photos", "deepface__couple.jpg"))
    options = RestoreOptions(face_model=golden_file("gfpgan_v1.4"))
    return photo, restore_photo(engine, photo, options)


@pytest.mark.slow
def test_pixels_outside_the_faces_are_unchanged(couple) -> None:
    photo, result = couple
    assert len(result.restored) == 2
    outside = ~face_regions(result, photo.pixels.shape)
    assert outside.mean() > 0.3
    assert np.array_equal(result.photo.pixels[outside], photo.pixels[outside])
    assert not np.array_equal(result.photo.pixels, photo.pixels)


@pytest.mark.slow
def test_strength_recomposes_without_the_network(couple) -> None:
    photo, result = couple
    zero = compose(result.background, result.restored, 0.0, 1)
    assert np.array_equal(zero, to_float(photo.pixels))
    half = compose(result.background, result.restored, 0.5, 1)
    full = compose(result.background, result.restored, 1.0, 1)
    d_half = np.abs(half - zero).max()
    assert 0 < d_half < np.abs(full - zero).max()


def test_mask_is_soft_and_zero_at_the_crop_border() -> None:
    mask = face_mask(512)
    assert mask[272, 256] == pytest.approx(1.0, abs=1e-3)
    assert mask[0].max() == 0 and mask[-1].max() == 0 and mask[:, 0].max() == 0
    assert 0.05 < mask[272, 256 + 168] < 0.95  # feathered at the oval's edge


@pytest.mark.slow
def test_sixteen_bit_grey_photo_with_alpha_keeps_all_three(engine: Engine, golden_file) -> None:
    pixels = read_photo(photo_path("misc_faces", "spandrel__einstein.png")).pixels
    grey = (pixels.mean(axis=2) * 257).astype(np.uint16)
    alpha = np.full(grey.shape, 40000, np.uint16)
    photo = replace(photo_from_array(grey), alpha=alpha)
    assert photo.grayscale
    options = RestoreOptions(face_model=golden_file("gfpgan_v1.4"), upscale=2)
    result = restore_photo(engine, photo, options).photo
    assert result.pixels.dtype == np.uint16
    assert result.pixels.shape[:2] == (grey.shape[0] * 2, grey.shape[1] * 2)
    assert result.alpha is not None and result.alpha.shape == result.pixels.shape[:2]
    assert np.array_equal(result.pixels[..., 0], result.pixels[..., 1])
    assert len(np.unique(result.pixels)) > 1024  # no 8-bit banding


def test_cancel_stops_the_job(engine: Engine, golden_file) -> None:
    photo = read_photo(photo_path("group_photos", "dlib__2008_002506.jpg"))
    token = CancelToken()

    def progress(p) -> None:
        if p.stage == "restore":
            token.cancel()

    options = RestoreOptions(face_model=golden_file("gfpgan_v1.4"))
    with pytest.raises(Cancelled):
        restore_photo(engine, photo, options, progress, token)


def test_tiled_model_upscale_matches_one_pass() -> None:
    model = load_upscale_model(require_shared("weights", "realesr-animevideov3.pth"))
    image = to_float(read_photo(photo_path("old_photos", "old__h.png")).pixels)[:120, :150]
    import torch

    whole = upscale_with_model(image, model, 4, torch.device("cpu"), tile=512)
    tiled = upscale_with_model(image, model, 4, torch.device("cpu"), tile=48, overlap=16)
    assert whole.shape == (480, 600, 3)
    assert np.abs(whole - tiled).max() < 2 / 255
    half = upscale_with_model(image, model, 2, torch.device("cpu"), tile=64)
    assert half.shape == (240, 300, 3)


def test_lanczos_upscale_keeps_the_range() -> None:
    image = np.random.default_rng(1).random((20, 30, 3), dtype=np.float32)
    out = lanczos(image, 3)
    assert out.shape == (60, 90, 3) and out.min() >= 0 and out.max() <= 1
