"""The live preview when faces have their own strengths: moving one face's strength re-blends
only that face (and the faces overlapping it), with no network and no warping.

`PreviewCompositor` (preview.py) stays the fast path for one strength for every face; this one
is used once any face has its own. Both blend with paste.blend, in the export's order, so the
preview and the saved file agree.
"""

from __future__ import annotations

import numpy as np

from faceapp.core.faces.paste import FacePatch, PlacedFace, blend, place
from faceapp.core.preview import to_display


class FacePreview:
    def __init__(
        self,
        background: np.ndarray,
        patches: list[FacePatch],
        scale: int,
        strengths: list[float | None],
    ) -> None:
        height, width = background.shape[:2]
        self.background = background
        self.placed: list[PlacedFace | None] = [place(p, scale, width, height) for p in patches]
        self.own = list(strengths)  # per patch; None: the global strength
        self.work = background.copy()
        self.display = to_display(background)
        self.strength: float | None = None

    @property
    def regions(self) -> list[tuple[int, int, int, int]]:
        return [p.region for p in self.placed if p is not None]

    def render(self, strength: float) -> np.ndarray:
        """Every face again at `strength` (faces with their own strength keep it)."""
        self.strength = float(np.clip(strength, 0.0, 1.0))
        self._reblend(set(range(len(self.placed))))
        return self.display

    def set_face_strength(self, index: int, strength: float | None) -> np.ndarray:
        """Face `index` (its position in the patches) at its own strength (None: the global
        one); only the faces whose regions touch it, directly or in a chain, are re-blended."""
        self.own[index] = strength
        if self.strength is not None:
            self._reblend(self._touching(index))
        return self.display

    def _strength_of(self, index: int) -> float:
        own = self.own[index]
        return float(self.strength if own is None else own)

    def _touching(self, index: int) -> set[int]:
        group, frontier = {index}, [index]
        while frontier:
            region = self._region(frontier.pop())
            for other in range(len(self.placed)):
                if other not in group and _overlap(region, self._region(other)):
                    group.add(other)
                    frontier.append(other)
        return group

    def _region(self, index: int) -> tuple[int, int, int, int] | None:
        placed = self.placed[index]
        return None if placed is None else placed.region

    def _reblend(self, indices: set[int]) -> None:
        regions = [r for i in sorted(indices) if (r := self._region(i)) is not None]
        for x0, y0, x1, y1 in regions:
            self.work[y0:y1, x0:x1] = self.background[y0:y1, x0:x1]
        for i in sorted(indices):
            placed, strength = self.placed[i], self._strength_of(i)
            if placed is not None and strength > 0:
                blend(self.work, placed, strength)
        for x0, y0, x1, y1 in regions:
            self.display[y0:y1, x0:x1] = to_display(self.work[y0:y1, x0:x1])


def _overlap(a, b) -> bool:
    if a is None or b is None:
        return False
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
