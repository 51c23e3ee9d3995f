"""Faces labelled by looking at them: already sharp, or in need of restoring. The quality
estimate's test and its calibration (benchmarks/quality_calibration.py) both judge it on these.

Aligned crops are measured as they are; photos are detected and their largest face measured.
The ground-truth crop is also degraded here in the ways restoration papers degrade faces, so
that the same face appears on both sides.
"""

from __future__ import annotations

import cv2
import numpy as np

DEGRADED_CROPS = [
    "gfpgan_inputs/cropped_faces__Adele_crop.png",
    "gfpgan_inputs/cropped_faces__Julia_Roberts_crop.png",
    "gfpgan_inputs/cropped_faces__Justin_Timberlake_crop.png",
    "gfpgan_inputs/cropped_faces__Paris_Hilton_crop.png",
    "restoreformerpp/aligned__046_00022_00_org.png",
    "restoreformerpp/aligned__122_00062_00_org.png",
    "restoreformerpp/aligned__151_00079_02_org.png",
    "restoreformerpp/aligned__200_00101_02_org.png",
    "restoreformerpp/aligned__307_10008_02_org.png",
    "misc_faces/spandrel__blurry-face.jpg",
    "misc_faces/spandrel__lr-face.jpg",
]
SHARP_CROPS = ["gfpgan_inputs/tests_gt__00000000.png"]
SHARP_PHOTOS = [  # portraits; their largest face
    "misc_faces/deepface__img1.jpg",
    "misc_faces/deepface__img12.jpg",
    "misc_faces/deepface__img25.jpg",
    "misc_faces/deepface__img26.jpg",
    "misc_faces/deepface__img3.jpg",
    "misc_faces/deepface__img33.jpg",
    "misc_faces/deepface__img35.jpg",
    "misc_faces/deepface__img51.jpg",
    "misc_faces/facexlib__test.jpg",
    "misc_faces/facexlib__test2.jpg",
]
GROUND_TRUTH = "gfpgan_inputs/tests_gt__00000000.png"
TINY_PHOTO = "misc_faces/biubug6__1.jpg"  # a crowd: most of its faces are tiny


def degraded_versions(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The ground truth (uint8 RGB) degraded: blur, low resolution, JPEG, noise, and all four
    together (the GFPGAN training recipe, with fixed parameters)."""
    rng = np.random.default_rng(13)
    h, w = rgb.shape[:2]

    def small(x: np.ndarray, k: int) -> np.ndarray:
        down = cv2.resize(x, (w // k, h // k), interpolation=cv2.INTER_AREA)
        return cv2.resize(down, (w, h), interpolation=cv2.INTER_CUBIC)

    def jpeg(x: np.ndarray, q: int) -> np.ndarray:
        ok, data = cv2.imencode(".jpg", x, [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)

    def noisy(x: np.ndarray, sigma: float) -> np.ndarray:
        return np.clip(x + rng.normal(0, sigma, x.shape), 0, 255).astype(np.uint8)

    blurred = cv2.GaussianBlur(rgb, (0, 0), 3.0)
    return {
        "blur": blurred,
        "low-res x4": small(rgb, 4),
        "jpeg q10": jpeg(rgb, 10),
        "noise 12": noisy(rgb, 12.0),
        "all": jpeg(noisy(small(blurred, 2), 8.0), 40),
    }
