"""The live preview re-blends only the faces, and always shows what the export will write."""

from __future__ import annotations

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
    for strength in (1.0, 0.35, 0.0, 0.8, 1.0):
        expected = from_float(paste_faces(background.copy(), patches, strength, scale), np.uint8)
        assert np.array_equal(preview.render(strength), expected), strength


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
