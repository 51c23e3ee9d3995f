"""Fast re-blending for the live preview: a new strength touches only the faces' regions, at
the resolution being looked at."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.core.faces.paste import FacePatch, PlacedFace, blend, place

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in the canvas (at one level)


@dataclass
class _Level:
    """The canvas at 1 / 2**level of its size: what the preview keeps to re-blend it."""

    background: np.ndarray  # float32 RGB
    placed: list[PlacedFace]
    work: np.ndarray  # float32 RGB: background with the faces blended at `strength`
    display: np.ndarray  # uint8 RGB copy of `work`
    strength: float | None = None

    @property
    def regions(self) -> list[Region]:
        return [p.region for p in self.placed]


class PreviewCompositor:
    """Keeps the (upscaled) background, each face already warped into place, a float working
    canvas and an 8-bit display copy, per level of detail.

    `render(strength)` resets each face region from the background, blends every face again in
    the export's order (so overlapping faces look the same as in the saved file) and refreshes
    only those regions of the display image: level 0 (full size) is exactly what the export
    writes. `render(strength, level)` does the same on a copy shrunk by 2**level (made on first
    use), for a view that shows the photo that small: 4**level times less work per move. No
    network runs here, and faces are warped once per level.
    """

    def __init__(self, background: np.ndarray, patches: list[FacePatch], scale: int) -> None:
        self.background = background
        self.patches = patches
        self.scale = scale
        self._levels = {0: self._make_level(0)}

    @property
    def display(self) -> np.ndarray:
        return self._levels[0].display

    @property
    def regions(self) -> list[Region]:
        return self._levels[0].regions

    @property
    def strength(self) -> float | None:
        return self._levels[0].strength

    def size_at(self, level: int) -> tuple[int, int]:
        """(width, height) of the canvas at `level`: halved `level` times, rounding down."""
        height, width = self.background.shape[:2]
        return max(1, width >> level), max(1, height >> level)

    def regions_at(self, level: int) -> list[Region]:
        return self._level(level).regions

    def render(self, strength: float, level: int = 0) -> np.ndarray:
        """The display image (H x W x 3 uint8) at `strength` and `level`; updated in place."""
        strength = float(np.clip(strength, 0.0, 1.0))
        state = self._level(level)
        if state.strength == strength:
            return state.display
        for x0, y0, x1, y1 in state.regions:
            state.work[y0:y1, x0:x1] = state.background[y0:y1, x0:x1]
        if strength > 0:
            for placed in state.placed:
                blend(state.work, placed, strength)
        for x0, y0, x1, y1 in state.regions:
            state.display[y0:y1, x0:x1] = to_display(state.work[y0:y1, x0:x1])
        state.strength = strength
        return state.display

    def _level(self, level: int) -> _Level:
        if level not in self._levels:
            self._levels[level] = self._make_level(level)
        return self._levels[level]

    def _make_level(self, level: int) -> _Level:
        width, height = self.size_at(level)
        background = self.background
        if level:  # from the nearest finer level: less to read
            finer = self._levels[max(k for k in self._levels if k < level)].background
            background = cv2.resize(finer, (width, height), interpolation=cv2.INTER_AREA)
        # inverse_matrix's pixel-centre convention makes scale / 2**level exact for the shrink
        placed = (place(p, self.scale / (1 << level), width, height) for p in self.patches)
        work = background.copy()
        return _Level(background, [p for p in placed if p is not None], work, to_display(work))


def to_display(image: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] to uint8, rounded to nearest and saturated (OpenCV: SIMD, threads).
    Inputs here are finite: network outputs are clamped, backgrounds come from real pixels."""
    return cv2.convertScaleAbs(image, alpha=255.0)
