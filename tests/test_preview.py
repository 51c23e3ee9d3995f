"""The live preview re-blends only the faces, and always shows what the export will write."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceapp.core.faces.alignment import alignment_matrix
from faceapp.core.faces.paste import FacePatch, paste_faces
from faceapp.core.photo.reading import from_float
from faceapp.core.preview import PreviewCompositor

TEMPLATE_LANDMARKS = np.array(
    [[192.98, 239.95], [318.90, 240.19], [256.63, 314.02], [201.26, 371.41], [313.09, 371.15]]
)


def _patch(rng: np.random.Generator, centre: tuple[float, float], size: float) -> FacePatch:
    """A random 'restored' face placed by landmarks around `centre`, `size` pixels wide."""
    landmarks = (TEMPLATE_LANDMARKS - 256) * (size / 512) + np.array(centre)
    restored = rng.random((128, 128, 3), dtype=np.float32)
    return FacePatch(restored, alignment_matrix(landmarks, 128))


@pytest.fixture
def scene():
    rng = np.random.default_rng(7)
    background = rng.random((300, 400, 3), dtype=np.float32)
    # two overlapping faces (order matters where they overlap) and one far smaller
    patches = [
        _patch(rng, (150, 150), 220),
        _patch(rng, (230, 160), 200),
        _patch(rng, (350, 60), 40),
    ]
    return background, patches


@pytest.mark.parametrize("scale", [1, 2])
def test_preview_equals_the_export_at_every_strength(scene, scale) -> None:
    background, patches = scene
    if scale == 2:
        background = np.repeat(np.repeat(background, 2, axis=0), 2, axis=1)
    preview = PreviewCompositor(background, patches, scale)
    # every position of the window's slider (0..100), up and back down, then a jump
    for value in [*range(101), *range(100, -1, -7), 100]:
        strength = value / 100
        expected = from_float(paste_faces(background.copy(), patches, strength, scale), np.uint8)
        assert np.array_equal(preview.render(strength), expected), strength


def _smooth(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigmaX=3)


@pytest.mark.parametrize("level", [1, 2])
def test_reduced_levels_show_the_shrunk_export(scene, level) -> None:
    """Zoomed out, the faces are blended on a shrunk copy: what the screen shows of the export,
    within a few levels (resampling smooth pictures in another order). Photos are smooth at
    the pixel scale, unlike the random scene: blur it first."""
    background = _smooth(scene[0])
    patches = [FacePatch(_smooth(p.restored), p.matrix) for p in scene[1]]
    preview = PreviewCompositor(background, patches, 1)
    width, height = preview.size_at(level)
    assert (width, height) == (400 >> level, 300 >> level)
    for strength in (0.0, 0.3, 0.75, 1.0):
        export = paste_faces(background.copy(), patches, strength, 1)
        shrunk = cv2.resize(export, (width, height), interpolation=cv2.INTER_AREA)
        expected = from_float(shrunk, np.uint8).astype(int)
        shown = preview.render(strength, level).astype(int)
        assert np.abs(shown - expected).max() <= 4, strength
        assert np.abs(shown - expected).mean() < 0.2, strength
    assert preview.render(1.0) is preview.display  # level 0 still the exact export


def test_only_face_regions_change(scene) -> None:
    background, patches = scene
    preview = PreviewCompositor(background, patches, 1)
    untouched = np.ones(background.shape[:2], bool)
    for x0, y0, x1, y1 in preview.regions:
        untouched[y0:y1, x0:x1] = False
    before = preview.render(0.0).copy()
    after = preview.render(1.0)
    assert untouched.any() and not np.array_equal(before, after)
    assert np.array_equal(before[untouched], after[untouched])
    assert np.array_equal(before, from_float(background, np.uint8))
