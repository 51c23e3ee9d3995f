"""Small pictures for lists: a photo's thumbnail, a face's crop, a face's before/after pair."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QIcon, QPixmap

from faceapp.core.faces.selection import Face
from faceapp.gui.qimage import array_to_qimage


def fit(pixels: np.ndarray, side: int) -> np.ndarray:
    """Shrunk (never enlarged much) so the longest side is `side`, with area averaging."""
    h, w = pixels.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(np.ascontiguousarray(pixels), size, interpolation=interpolation)


def photo_icon(pixels: np.ndarray, side: int = 96) -> QIcon:
    return QIcon(QPixmap.fromImage(array_to_qimage(fit(pixels, side))))


def face_crop(pixels: np.ndarray, face: Face, margin: float = 0.3) -> np.ndarray:
    """The face box grown by `margin` on each side and made square, clipped to the photo."""
    cx, cy = face.center
    half = max(face.width, face.height) * (0.5 + margin)
    h, w = pixels.shape[:2]
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(w, int(cx + half) + 1), min(h, int(cy + half) + 1)
    return pixels[y0:y1, x0:x1]


def face_icon(pixels: np.ndarray, face: Face, side: int = 72) -> QIcon:
    return QIcon(QPixmap.fromImage(array_to_qimage(fit(face_crop(pixels, face), side))))


def before_after_icon(before: np.ndarray, after: np.ndarray, side: int = 72) -> QIcon:
    """Aligned crops (float RGB 0..1) side by side: the face as it was, and restored."""
    pair = [fit(np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8), side) for x in (before, after)]
    gap = np.full((pair[0].shape[0], 3, 3), 255, np.uint8)
    return QIcon(QPixmap.fromImage(array_to_qimage(np.hstack([pair[0], gap, pair[1]]))))
