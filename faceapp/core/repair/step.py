"""The repair step of the restoration job: which mask, which method, on the float image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from faceapp.core.faces.selection import Face
from faceapp.core.progress import CancelToken
from faceapp.core.repair.inpaint import LAMA_WINDOW, clear_boxes, fit_mask, repair

if TYPE_CHECKING:
    from faceapp.core.runtime.engine import Engine
from faceapp.core.repair.scratches import find_scratches

NONE, AUTO, MASK = "none", "auto", "mask"
REPAIRS = (NONE, AUTO, MASK)


def propose_mask(
    pixels: np.ndarray, faces: Sequence[Face], cancel: CancelToken | None = None
) -> np.ndarray:
    """The "Find scratches and dust" mask (255 = damage), leaving the faces out.

    Faces are left out on purpose: on the shared old photos the detector's few false marks on
    clean photos fall on eyes, mouths and spectacles, where an inpainted patch does far more
    harm than a crack left for the face model (or the user's brush) to deal with.
    """
    mask = find_scratches(pixels, cancel=cancel)
    return clear_boxes(mask, [face.box for face in faces])


def repair_around(
    engine: Engine,
    image: np.ndarray,
    mask: np.ndarray,
    face: Face,
    model: Path | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """`image` (float RGB) with the marked damage repaired around one face only: all that the
    face's aligned crop sees, so a face tried alone (Compare) starts from the pixels the whole
    restoration would give it. `model`: a LaMa file; None: OpenCV's method."""
    mask = fit_mask(mask, image.shape[:2])
    x0, y0, x1, y1 = _around(face.box, mask.shape)
    near = np.zeros_like(mask)
    near[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    if not near.any():
        return image
    large = min(image.shape[:2]) >= LAMA_WINDOW
    inpainter = engine.inpainter(model, cancel=cancel, compiled=large) if model else None
    return repair(image, near, inpainter, cancel=cancel)


def _around(box: tuple[float, float, float, float], shape: tuple[int, ...]):
    """A square three face-widths wide on the face: more than its aligned crop covers."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = 1.5 * max(box[2] - box[0], box[3] - box[1])
    height, width = shape[:2]
    return (
        max(0, int(cx - half)),
        max(0, int(cy - half)),
        min(width, int(cx + half) + 1),
        min(height, int(cy + half) + 1),
    )
