"""Is a photo black and white? Decided from the pixels, not from the file's mode.

A scan of a black-and-white print is usually stored as RGB, and old prints are often toned
(sepia, selenium): their pixels all share one hue. So a photo counts as black and white when
almost all its pixels sit close to a single (a, b) point in Lab, whatever that point is.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_SPREAD = 6.5  # Lab a/b units, for 90 % of the pixels
PERCENTILE = 90  # scratches, stains and yellowed cracks may colour the rest
_SAMPLE_SIDE = 256


def is_black_and_white(image: np.ndarray, max_spread: float = MAX_SPREAD) -> bool:
    """Whether an HxW or HxWx3(+alpha) RGB photo (uint8/uint16/float [0, 1]) has no colour."""
    if image.ndim == 2 or image.shape[2] == 1:
        return True
    return colour_spread(image) <= max_spread


def colour_spread(image: np.ndarray) -> float:
    """How far (Lab a/b) the 90th percentile of pixels lies from the photo's median tone."""
    rgb = _small_float(image)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    lab = lab[(lab[:, 0] > 3) & (lab[:, 0] < 97)]  # near-black or near-white hold no hue
    if len(lab) == 0:
        return 0.0
    ab = lab[:, 1:]
    distance = np.linalg.norm(ab - np.median(ab, axis=0), axis=1)
    return float(np.percentile(distance, PERCENTILE))


def _small_float(image: np.ndarray) -> np.ndarray:
    rgb = np.asarray(image)[:, :, :3]
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float32) / 255.0
    elif rgb.dtype == np.uint16:
        rgb = rgb.astype(np.float32) / 65535.0
    else:
        rgb = rgb.astype(np.float32)
    h, w = rgb.shape[:2]
    scale = _SAMPLE_SIDE / max(h, w)
    if scale < 1:
        rgb = cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    return np.ascontiguousarray(rgb)
