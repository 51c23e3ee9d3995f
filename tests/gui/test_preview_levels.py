"""The canvas shows the live preview: zoomed in, exactly what the export writes, at every
position of the strength slider; zoomed out, what the compositor blended at that level."""

from __future__ import annotations

import numpy as np
import pytest

from faceapp.core.faces.alignment import alignment_matrix
from faceapp.core.faces.paste import FacePatch, paste_faces
from faceapp.core.photo.reading import from_float
from faceapp.core.preview import PreviewCompositor
from faceapp.gui.canvas_binding import PreviewLevels
from faceapp.gui.photo_canvas import PhotoCanvas
from faceapp.gui.qimage import array_to_qimage, qimage_to_array

TEMPLATE = np.array(
    [[192.98, 239.95], [318.90, 240.19], [256.63, 314.02], [201.26, 371.41], [313.09, 371.15]]
)


@pytest.fixture
def scene():
    rng = np.random.default_rng(3)
    background = rng.random((300, 400, 3), dtype=np.float32)
    patches = []
    for centre, size in (((150, 150), 220), ((230, 160), 200)):  # overlapping faces
        landmarks = (TEMPLATE - 256) * (size / 512) + np.array(centre)
        restored = rng.random((128, 128, 3), dtype=np.float32)
        patches.append(FacePatch(restored, alignment_matrix(landmarks, 128)))
    return background, patches


def shown_level(canvas: PhotoCanvas, level: int) -> np.ndarray:
    canvas.viewport().grab()  # a paint refreshes the level it needs
    return qimage_to_array(canvas._after._pixmaps[level].toImage())


def test_zoomed_in_the_canvas_shows_the_export_at_every_strength(qtbot, scene) -> None:
    background, patches = scene
    canvas = PhotoCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(500, 400)
    canvas.show()
    compositor = PreviewCompositor(background, patches, 1)
    canvas.set_before(array_to_qimage(from_float(background, np.uint8)))
    canvas.set_after(array_to_qimage(compositor.render(1.0)), PreviewLevels(compositor, 1.0))
    canvas.zoom_actual()
    for value in range(101):  # every position of the slider
        strength = value / 100
        canvas.update_after(PreviewLevels(compositor, strength))
        export = from_float(paste_faces(background.copy(), patches, strength, 1), np.uint8)
        assert np.array_equal(shown_level(canvas, 0), export), strength


def test_zoomed_out_the_canvas_shows_the_level_blended_for_it(qtbot, scene) -> None:
    background, patches = scene
    canvas = PhotoCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(90, 70)  # fitted: less than a quarter of the photo's size, level 2
    canvas.show()
    compositor = PreviewCompositor(background, patches, 1)
    canvas.set_before(array_to_qimage(from_float(background, np.uint8)))
    canvas.set_after(array_to_qimage(compositor.render(0.0)), PreviewLevels(compositor, 0.0))
    for strength in (0.2, 0.9, 0.5):
        canvas.update_after(PreviewLevels(compositor, strength))
        shown = shown_level(canvas, 2)
        assert np.array_equal(shown, compositor.render(strength, 2))
    assert compositor.strength == 0.0  # the full size was never blended again
