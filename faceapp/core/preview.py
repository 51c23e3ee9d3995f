"""Fast re-blending for the live preview: a new strength touches only the faces' regions."""

from __future__ import annotations

import cv2
import numpy as np

from faceapp.core.faces.paste import FacePatch, PlacedFace, blend, place

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in the canvas


class PreviewCompositor:
    """Keeps the (upscaled) background, each face already warped into place, a float working
    canvas and an 8-bit display copy.

    `render(strength)` resets each face region from the background, blends every face again in
    the export's order (so overlapping faces look the same as in the saved file) and refreshes
    only those regions of the display image. No network and no warping happens here.
    """

    def __init__(self, background: np.ndarray, patches: list[FacePatch], scale: int) -> None:
        self.background = background
        height, width = background.shape[:2]
        placed = (place(p, scale, width, height) for p in patches)
        self.placed: list[PlacedFace] = [p for p in placed if p is not None]
        self.regions: list[Region] = [p.region for p in self.placed]
        self.work = background.copy()
        self.display = to_display(background)
        self.strength: float | None = None

    def render(self, strength: float) -> np.ndarray:
        """The display image (H x W x 3 uint8) at `strength`; updated in place and returned."""
        strength = float(np.clip(strength, 0.0, 1.0))
        for x0, y0, x1, y1 in self.regions:
            self.work[y0:y1, x0:x1] = self.background[y0:y1, x0:x1]
        if strength > 0:
            for placed in self.placed:
                blend(self.work, placed, strength)
        for x0, y0, x1, y1 in self.regions:
            self.display[y0:y1, x0:x1] = to_display(self.work[y0:y1, x0:x1])
        self.strength = strength
        return self.display


def to_display(image: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] to uint8, rounded to nearest and saturated (OpenCV: SIMD, threads).
    Inputs here are finite: network outputs are clamped, backgrounds come from real pixels."""
    return cv2.convertScaleAbs(image, alpha=255.0)
