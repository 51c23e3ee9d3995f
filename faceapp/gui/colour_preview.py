"""The after image of a colorized result at any colour strength, without the network.

Wraps a face compositor: the faces are blended by it, then the kept colour prediction is
laid over the whole picture (core `colorize.apply`), then each face's own colour (GPEN's, or
grey) over that, chroma only, as the export does; so the whole image counts as changed.
"""

from __future__ import annotations

import numpy as np

from faceapp.core.faces.colouring import FaceColour, apply_face_colours, face_colour_strength
from faceapp.core.preview import to_display


class ColourPreview:
    def __init__(
        self,
        inner,
        colour,
        colour_strength: float,
        face_colours: list[FaceColour] | None = None,
    ) -> None:
        self.inner = inner
        self.colour = colour  # a ColourPrediction, or None: the picture stays grey
        self.colour_strength = colour_strength
        self.face_colours = face_colours or []
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
        base = self.inner.render(strength)
        key = (strength, self.colour_strength)
        if key != self._key or self._display is None:
            image = base.astype(np.float32) / 255.0
            if self.colour is not None:
                # only once a colorized result exists: the inference thread loaded torch
                from faceapp.core.colour import colorize

                image = colorize.apply(
                    self.colour, image, self.colour_strength, rgb=True, out=image
                )
                np.clip(image, 0.0, 1.0, out=image)
            strength = face_colour_strength(self.colour, self.colour_strength)
            apply_face_colours(image, self.face_colours, strength)
            self._display = to_display(image)
            self._key = key
        return self._display
