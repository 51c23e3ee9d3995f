"""Convert between numpy pixel arrays and QImage (8-bit RGB for display)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def array_to_qimage(pixels: np.ndarray) -> QImage:
    """H x W x 3 RGB or H x W grey (uint8 or uint16) -> an RGB888 QImage owning its memory.

    uint16 samples are rounded to the nearest 8-bit value: the screen shows 8 bits anyway.
    """
    rgb = np.ascontiguousarray(_to_rgb(_to_8bit(pixels)))
    height, width = rgb.shape[:2]
    view = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return view.copy()  # the QImage above only borrows `rgb`, which dies with this function


def borrowed_qimage(rgb: np.ndarray) -> QImage:
    """A QImage over an H x W x 3 uint8 C-contiguous array, without copying: only valid while
    the array lives and keeps its shape (for short-lived drawing from a kept buffer)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or not rgb.flags.c_contiguous:
        raise ValueError("borrowed_qimage needs a C-contiguous H x W x 3 uint8 array")
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)


def qimage_to_array(image: QImage) -> np.ndarray:
    """Any QImage -> H x W x 3 uint8 RGB array (a copy; alpha is dropped)."""
    if image.isNull():
        return np.zeros((0, 0, 3), dtype=np.uint8)
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * height)
    return rows.reshape(height, stride)[:, : 3 * width].reshape(height, width, 3).copy()


def _to_8bit(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        wide = pixels.astype(np.uint32)
        wide += 128
        wide //= 257  # round(v * 255 / 65535)
        return wide.astype(np.uint8)
    raise ValueError(f"expected uint8 or uint16 pixels, got {pixels.dtype}")


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, np.newaxis], 3, axis=2)
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return pixels
    raise ValueError(f"expected H x W x 3 RGB or H x W grey pixels, got shape {pixels.shape}")
