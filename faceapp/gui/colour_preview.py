"""The after image of a colorized result at any colour strength, without the network.

Wraps a face compositor: the faces are blended by it, then the kept colour prediction is
laid over the whole picture (core `colorize.apply`), so the whole image counts as changed.
"""

from __future__ import annotations

import numpy as np

from faceapp.core.preview import to_display


class ColourPreview:
    def __init__(self, inner, colour, colour_strength: float) -> None:
        self.inner = inner
        self.colour = colour
        self.colour_strength = colour_strength
        self._key: tuple | None = None
        self._display: np.ndarray | None = None
        if inner.strength is not None:
            self.render(inner.strength)

    @property
    def strength(self) -> float | None:
        return self.inner.strength

    @property
    def display(self) -> np.ndarray:
        if self._display is None:
            self.render(self.inner.strength or 0.0)
        return self._display

    @property
    def regions(self) -> list[tuple[int, int, int, int]]:
        height, width = self.inner.display.shape[:2]
        return [(0, 0, width, height)]

    def render(self, strength: float, level: int = 0) -> np.ndarray:
        # called only once a colorized result exists: the inference thread loaded torch
        from faceapp.core.colour import colorize

        base = self.inner.render(strength)
        key = (strength, self.colour_strength)
        if key != self._key or self._display is None:
            grey = base.astype(np.float32) / 255.0
            coloured = colorize.apply(self.colour, grey, self.colour_strength, rgb=True, out=grey)
            self._display = to_display(np.clip(coloured, 0.0, 1.0, out=coloured))
            self._key = key
        return self._display
