"""Aligning faces to the FFHQ template and back (the maths of facexlib's FaceRestoreHelper)."""

from __future__ import annotations

import cv2
import numpy as np

# The five FFHQ landmarks (eyes, nose, mouth corners) in a 512 x 512 aligned face.
FFHQ_TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ]
)
# facexlib fills the outside of the photo with this grey (given there as BGR 135, 133, 132).
BORDER_RGB = (132 / 255, 133 / 255, 135 / 255)


def face_template(size: int) -> np.ndarray:
    return FFHQ_TEMPLATE_512 * (size / 512.0)


def alignment_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """2 x 3 similarity transform taking the photo's landmarks onto the template at `size`.

    LMEDS, as facexlib uses, matches skimage's similarity estimate on five points.
    """
    src = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    matrix, _ = cv2.estimateAffinePartial2D(src, face_template(size), method=cv2.LMEDS)
    if matrix is None:
        raise ValueError("These landmarks do not define a face position.")
    return matrix


def warp_face(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The aligned face crop (size x size) from a float RGB image in [0, 1]."""
    return cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=BORDER_RGB,
    )


def inverse_matrix(matrix: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """From the aligned face back into the photo, optionally upscaled by `scale`.

    With pixel centres at integer coordinates, scaling a photo by s maps x to s*x + (s-1)/2.
    """
    inverse = cv2.invertAffineTransform(matrix) * scale
    inverse[:, 2] += (scale - 1) / 2
    return inverse
