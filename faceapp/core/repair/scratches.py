"""Find scratches and dust: a proposed damage mask (255 = damage) from the photo itself.

Damage on scanned prints is thin and high-contrast against its surroundings: bright or dark
lines and cracks a few pixels wide, and specks of dust. A morphological top-hat (bright) and
black-hat (dark) keep exactly the structures narrower than a small disc; a threshold relative to
the photo's own texture keeps the strong ones; connected pieces are then kept only when they are
line-like (long and thin: scratches, cracks) or small specks, so that ordinary detail of a clean
photo (edges, eyes, hair) is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.core.progress import CancelToken


@dataclass(frozen=True)
class ScratchSettings:
    width: int = 0  # widest damage in pixels; 0 = from the photo's size
    min_contrast: float = 14.0  # levels (0..255) above the surroundings
    local_factor: float = 5.0  # ... and this many times the texture around it
    speck_factor: float = 2.0  # specks need this much more contrast than lines
    min_elongation: float = 10.0  # length / thickness of a line
    grow: int = 1  # pixels added around what was found (the soft edge of a scratch)


def find_scratches(
    image: np.ndarray, settings: ScratchSettings | None = None, cancel: CancelToken | None = None
) -> np.ndarray:
    """HxW uint8 mask (255 = damage) for an HxW(x3|4) photo (uint8, uint16 or float [0, 1])."""
    settings = settings or ScratchSettings()
    grey = _grey_levels(image)
    width = settings.width or _default_width(grey.shape)
    mask = np.zeros(grey.shape, np.uint8)
    for operation in (cv2.MORPH_TOPHAT, cv2.MORPH_BLACKHAT):
        if cancel is not None:
            cancel.raise_if_cancelled()
        response = _response(grey, width, operation)
        level = _levels(response, width, settings)
        mask |= _keep_damage_like(response, level, width, settings)
    if settings.grow:
        size = 2 * settings.grow + 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask


def _grey_levels(image: np.ndarray) -> np.ndarray:
    """Grey as float32 on the 0..255 scale, whatever the input's type."""
    array = np.asarray(image)
    if array.ndim == 3:
        array = array[:, :, :3]
    if array.dtype == np.uint8:
        scale = 1.0
    elif array.dtype == np.uint16:
        scale = 255.0 / 65535.0
    else:
        scale = 255.0
    grey = array.astype(np.float32) * np.float32(scale)
    if grey.ndim == 3:
        grey = cv2.cvtColor(grey, cv2.COLOR_RGB2GRAY)
    return grey


def _default_width(shape: tuple[int, ...]) -> int:
    """Scratches scale with the scan: about 0.6 % of the short side, 4 px at least."""
    return int(max(4, round(min(shape[:2]) * 0.006)))


def _response(grey: np.ndarray, width: int, operation: int) -> np.ndarray:
    size = 2 * width + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    smoothed = cv2.GaussianBlur(grey, (3, 3), 0)  # film grain is not damage
    return cv2.morphologyEx(smoothed, operation, disc)


def _levels(response: np.ndarray, width: int, settings: ScratchSettings) -> np.ndarray:
    """Per-pixel threshold: a fixed contrast, raised where the photo itself is busy.

    The texture around a pixel is the mean response over a wide window: a thin scratch adds
    little to it, while hair, knitwear or foliage raise it everywhere they are.
    """
    height, cols = response.shape
    small = cv2.resize(
        response, (max(1, cols // width), max(1, height // width)), interpolation=cv2.INTER_AREA
    )  # a wide blur, computed small: fast
    texture = cv2.resize(cv2.GaussianBlur(small, (0, 0), 6.0), (cols, height))
    return np.maximum(np.float32(settings.min_contrast), settings.local_factor * texture)


def _keep_damage_like(
    response: np.ndarray, level: np.ndarray, width: int, settings: ScratchSettings
) -> np.ndarray:
    """Pixels above the threshold that form long thin lines or small round specks."""
    candidates = (response > level).astype(np.uint8)
    lines = _thin_lines(candidates, width, settings)
    specks = _specks(candidates, response >= settings.speck_factor * level, width)
    return np.where((lines | specks) > 0, 255, 0).astype(np.uint8)


def _thin_lines(candidates: np.ndarray, width: int, settings: ScratchSettings) -> np.ndarray:
    """The thin parts of the candidates (an opening removes them) that are long pieces.

    Thin parts are taken pixel by pixel, so a scratch crossing a dark coat is still found while
    the coat is not; a piece is a line when it is long and, on average, thin along its extent.
    """
    size = width + 3  # the damage plus the blur's skirt
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    thin = candidates & (1 - cv2.morphologyEx(candidates, cv2.MORPH_OPEN, disc))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    area = stats[:, cv2.CC_STAT_AREA]
    diagonal = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = (extent >= 4 * width) & (area * settings.min_elongation <= diagonal * diagonal)
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _specks(candidates: np.ndarray, strong: np.ndarray, width: int) -> np.ndarray:
    """Dust: small, roughly round pieces with a clearly stronger contrast than lines need."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA]
    has_strong = np.bincount(labels[strong], minlength=count) > 0
    keep = (area >= 2) & (area <= width * width) & (np.maximum(w, h) <= 3 * np.minimum(w, h) + 2)
    keep &= has_strong
    keep[0] = False
    return keep[labels].astype(np.uint8)
