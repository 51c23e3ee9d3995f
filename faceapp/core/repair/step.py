"""The repair step of the restoration job: which mask, which method, on the float image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from faceapp.core.faces.selection import Face
from faceapp.core.progress import CancelToken, ProgressCallback, no_progress
from faceapp.core.repair.inpaint import LAMA_WINDOW, clear_boxes, fit_mask, repair

if TYPE_CHECKING:
    from faceapp.core.models.loading import InpaintModel
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
    return repair(
        image, near, inpainter_for(engine, model, image.shape, cancel=cancel), cancel=cancel
    )


def inpainter_for(
    engine: Engine,
    model: Path | None,
    shape: tuple[int, ...],
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> InpaintModel | None:
    """LaMa for a photo of `shape`, compiled only when repair's full-size windows fit in it
    (a smaller photo never pays for the conversion); None: OpenCV's method."""
    if model is None:
        return None
    return engine.inpainter(model, progress, cancel, min(shape[:2]) >= LAMA_WINDOW)


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
