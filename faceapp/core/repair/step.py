"""The repair step of the restoration job: which mask, which method, on the float image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceapp.core.faces.selection import Face
from faceapp.core.progress import CancelToken
from faceapp.core.repair.inpaint import clear_boxes
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
