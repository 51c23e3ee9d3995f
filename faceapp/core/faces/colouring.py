"""Colouring faces of a black-and-white photo while keeping the photo's own light and detail.

GPEN-Colorization takes the grey face (three equal channels) and returns it in colour. Only its
colour is used: the luminance stays the photo's own (YUV, as the official post-processing does
when sizes differ; faceapp always does it), so restored detail and the photo's tones survive and
no brightness edge can show where the face meets neck and hair. The colour is blended in with a
soft face mask, so skin colour fades into whatever colour the rest of the picture has.

A face the user wants grey inside a colorized picture gets the same soft paste with a neutral
(zero-chroma) face, so its edge is as smooth as a GPEN-coloured face's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from faceapp.core.faces.paste import FacePatch, place

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # Rec. 601, as OpenCV's YUV


def luma(rgb: np.ndarray) -> np.ndarray:
    """H x W luminance of a float RGB image."""
    return rgb @ _LUMA


def grey_input(crop: np.ndarray) -> np.ndarray:
    """The network's input: the crop's luminance in all three channels."""
    return np.repeat(luma(crop)[..., None], 3, axis=2).astype(np.float32)


def keep_luminance(colour: np.ndarray, luminance: np.ndarray) -> np.ndarray:
    """`colour`'s chroma (U, V) under the given luminance (Y), float RGB in [0, 1]. A colour
    that does not fit at that luminance is desaturated rather than clipped, so the
    luminance is kept exactly."""
    yuv = cv2.cvtColor(np.ascontiguousarray(colour, np.float32), cv2.COLOR_RGB2YUV)
    yuv[..., 0] = luminance
    rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB)
    y = luminance[..., None].astype(np.float32)
    chroma = rgb - y  # zero luminance: scaling it keeps Y
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(chroma > 0, (1 - y) / chroma, np.where(chroma < 0, -y / chroma, np.inf))
    fit = np.clip(room.min(axis=2, keepdims=True), 0.0, 1.0)
    return np.clip(y + fit * chroma, 0.0, 1.0)


def paste_face_colour(
    canvas: np.ndarray,
    face: np.ndarray,
    matrix: np.ndarray,
    mask: np.ndarray | None = None,
    strength: float = 1.0,
) -> None:
    """Blend the chroma of an aligned colour face into `canvas` (float RGB, in place), scaled
    by `strength` (0: grey); the canvas's luminance is untouched everywhere."""
    placed = place(FacePatch(face, matrix, mask), 1.0, canvas.shape[1], canvas.shape[0])
    if placed is None:
        return
    x0, y0, x1, y1 = placed.region
    region = canvas[y0:y1, x0:x1]
    yuv = cv2.cvtColor(region, cv2.COLOR_RGB2YUV)
    face_uv = cv2.cvtColor(placed.face, cv2.COLOR_RGB2YUV)[..., 1:]
    if strength != 1.0:  # U and V are centred on 0.5 (grey) for float images
        face_uv = NEUTRAL_UV + np.float32(strength) * (face_uv - NEUTRAL_UV)
    alpha = placed.alpha[..., None]
    yuv[..., 1:] += alpha * (face_uv - yuv[..., 1:])
    canvas[y0:y1, x0:x1] = keep_luminance(cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB), luma(region))


NEUTRAL_UV = np.float32(0.5)
GREY_SIZE = 512  # a grey face's chroma is zero everywhere: its size only sets the mask's detail


@dataclass
class FaceColour:
    """One face's colour as kept for re-composing without the network: the aligned colour
    face (None: neutral, the face stays grey) and its alignment in the output canvas."""

    index: int
    matrix: np.ndarray = field(repr=False)
    colour: np.ndarray | None = field(default=None, repr=False)  # float16: 6 MB at 1024

    def __post_init__(self) -> None:
        if self.colour is not None:  # only its chroma is used: half precision is plenty
            self.colour = np.asarray(self.colour, np.float16)

    def aligned(self) -> np.ndarray:
        if self.colour is None:
            return _neutral(GREY_SIZE)
        return self.colour.astype(np.float32)


def apply_face_colours(
    canvas: np.ndarray, colours: list[FaceColour], strength: float = 1.0
) -> None:
    """Lay each face's colour (chroma only, soft mask) over `canvas` (float RGB, in place),
    at the colour `strength` the picture has (0: every face grey)."""
    for face in colours:
        paste_face_colour(canvas, face.aligned(), face.matrix, strength=strength)


def face_colour_strength(picture_colour: object | None, strength: float) -> float:
    """Faces' own colours fade with the picture's colour strength when the picture is
    colorized (strength 0 = all grey); without picture colour there is no such slider."""
    return strength if picture_colour is not None else 1.0


@lru_cache(maxsize=2)
def _neutral(size: int) -> np.ndarray:
    face = np.full((size, size, 3), 0.5, np.float32)
    face.flags.writeable = False
    return face
