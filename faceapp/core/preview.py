"""Fast re-blending for the live preview: a new strength touches only the faces' regions."""

from __future__ import annotations

import numpy as np

from faceapp.core.image_io import from_float
from faceapp.core.paste import FacePatch, paste_faces, patch_region

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in the canvas


class PreviewCompositor:
    """Keeps the (upscaled) background, a float working canvas and an 8-bit display copy.

    `render(strength)` resets each face region from the background, pastes every face again
    (so overlapping faces blend in the same order as the export) and refreshes only those
    regions of the display image. The network is never involved.
    """

    def __init__(self, background: np.ndarray, patches: list[FacePatch], scale: int) -> None:
        self.background = background
        self.patches = patches
        self.scale = scale
        self.work = background.copy()
        self.display = from_float(background, np.uint8)
        height, width = background.shape[:2]
        regions = [patch_region(p, scale, width, height) for p in patches]
        self.regions: list[Region] = [r for r in regions if r is not None]
        self.strength: float | None = None

    def render(self, strength: float) -> np.ndarray:
        """The display image (H x W x 3 uint8) at `strength`; updated in place and returned."""
        for x0, y0, x1, y1 in self.regions:
            self.work[y0:y1, x0:x1] = self.background[y0:y1, x0:x1]
        paste_faces(self.work, self.patches, strength, self.scale)
        for x0, y0, x1, y1 in self.regions:
            self.display[y0:y1, x0:x1] = from_float(self.work[y0:y1, x0:x1], np.uint8)
        self.strength = strength
        return self.display
