"""Measuring a restored photo against its original, the way restoration papers do: PSNR, SSIM
and UQI for the whole image and for each aligned face pair.

PSNR and SSIM come from scikit-image (its defaults: 7 x 7 uniform window, K1 = 0.01,
K2 = 0.03, sample covariance, the mean over the colour channels). UQI (Wang & Bovik 2002) is
written here: scikit-image has none, `sewar` is unmaintained, and torchmetrics' version uses
a Gaussian window, not the paper's 8 x 8 sliding one; it is a few lines on integral images.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from faceapp.core.errors import FaceappError
from faceapp.core.faces.alignment import alignment_matrix, warp_face
from faceapp.core.faces.selection import Face

FACE_SIZE = 512  # aligned face pairs are compared at this size
UQI_WINDOW = 8


@dataclass(frozen=True)
class Scores:
    psnr: float  # dB; inf when identical
    ssim: float  # -1..1
    uqi: float  # -1..1

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if np.isfinite(v) else None) for k, v in asdict(self).items()}


def scores(restored: np.ndarray, original: np.ndarray) -> Scores:
    """Both float RGB (H x W x 3) in [0, 1] and of the same size."""
    if restored.shape != original.shape:
        raise FaceappError(
            f"The images differ in size ({_size(restored)} and {_size(original)}); compare a "
            "restored photo with an original of the same size."
        )
    with np.errstate(divide="ignore"):
        psnr = float(peak_signal_noise_ratio(original, restored, data_range=1.0))
    ssim = float(structural_similarity(original, restored, channel_axis=2, data_range=1.0))
    return Scores(psnr, ssim, uqi(restored, original))


def face_scores(
    restored: np.ndarray, original: np.ndarray, faces: list[Face]
) -> list[tuple[Face, Scores]]:
    """Each face (found in the original) aligned the same way in both images, then compared."""
    pairs = []
    for face in faces:
        matrix = alignment_matrix(face.landmarks, FACE_SIZE)
        a, b = (warp_face(image, matrix, FACE_SIZE) for image in (restored, original))
        pairs.append((face, scores(a, b)))
    return pairs


def uqi(x: np.ndarray, y: np.ndarray, window: int = UQI_WINDOW) -> float:
    """Universal image quality index: the mean over every window position (and channel) of
    4 cov(x, y) mean(x) mean(y) / ((var x + var y)(mean(x)^2 + mean(y)^2)), with the
    reference implementation's rules where a denominator is zero."""
    x, y = np.atleast_3d(x).astype(np.float64), np.atleast_3d(y).astype(np.float64)
    return float(np.mean([_uqi_map(x[..., c], y[..., c], window) for c in range(x.shape[2])]))


def _uqi_map(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    n = window * window
    mx, my = _window_sums(x, window) / n, _window_sums(y, window) / n
    vx = _window_sums(x * x, window) / n - mx * mx
    vy = _window_sums(y * y, window) / n - my * my
    cxy = _window_sums(x * y, window) / n - mx * my
    spread, level = vx + vy, mx * mx + my * my
    eps = 1e-12
    quality = np.ones_like(mx)
    both = (spread > eps) & (level > eps)
    quality[both] = 4 * cxy[both] * mx[both] * my[both] / (spread[both] * level[both])
    flat = (spread <= eps) & (level > eps)  # no variation: only the means can be compared
    quality[flat] = 2 * mx[flat] * my[flat] / level[flat]
    dark = (spread > eps) & (level <= eps)  # zero means: only the variations
    quality[dark] = 2 * cxy[dark] / spread[dark]
    return quality


def _window_sums(image: np.ndarray, window: int) -> np.ndarray:
    """Sum over every window x window block fully inside the image (from an integral image)."""
    s = cv2.integral(image, sdepth=cv2.CV_64F)
    w = window
    return s[w:, w:] - s[:-w, w:] - s[w:, :-w] + s[:-w, :-w]


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]} × {image.shape[0]}"
