"""Completing faces where damage took part of them away (GPEN-Inpainting's convention).

The network was trained on faces with white brush strokes painted over them: the damaged
pixels of the aligned face are painted pure white, the network fills them in, and only the
damaged pixels (with a few pixels of feathering) are taken from its output, so the rest of
the face stays exactly the photo's.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceapp.core.faces.paste import FacePatch, blend, place

WHITE = 1.0


def damage_in_face(damage: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The photo's damage mask (H x W, > 0 = damaged) in the aligned face: size x size bool,
    grown by a pixel or two so the white strokes cover the damage's soft edges too."""
    warped = cv2.warpAffine(
        (damage > 0).astype(np.float32), matrix, (size, size), flags=cv2.INTER_LINEAR
    )
    grow = max(1, round(size / 512))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    return cv2.dilate((warped > 0.01).astype(np.uint8), kernel) > 0


def paint_white(crop: np.ndarray, damaged: np.ndarray) -> np.ndarray:
    """A copy of the aligned crop (float RGB) with the damaged pixels painted white."""
    painted = crop.copy()
    painted[damaged] = WHITE
    return painted


def paste_completed(
    canvas: np.ndarray, completed: np.ndarray, matrix: np.ndarray, damaged: np.ndarray
) -> None:
    """Take the completed face's pixels where the face was damaged (feathered), in place."""
    size = completed.shape[0]
    feather = max(1.0, size / 512)
    mask = cv2.GaussianBlur(damaged.astype(np.float32), (0, 0), feather)
    mask = np.maximum(mask, damaged.astype(np.float32))  # damaged pixels fully replaced
    placed = place(FacePatch(completed, matrix, mask), 1.0, canvas.shape[1], canvas.shape[0])
    if placed is not None:
        blend(canvas, placed, 1.0)
