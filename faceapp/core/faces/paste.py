"""Pasting restored faces back into the photo, seamlessly and only where each face is."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from faceapp.core.faces.alignment import inverse_matrix


@dataclass(frozen=True)
class FacePatch:
    """A restored face in aligned space and the transform that aligned it."""

    restored: np.ndarray  # size x size x 3 float32 RGB in [0, 1]
    matrix: np.ndarray  # 2 x 3, photo -> aligned face
    mask: np.ndarray | None = None  # size x size float32 in [0, 1]; None: the plain oval

    def __post_init__(self) -> None:
        size = self.restored.shape[0]
        if self.mask is not None and self.mask.shape != (size, size):
            raise ValueError(f"The mask must be {size} x {size}, like the face.")

    def blend_mask(self) -> np.ndarray:
        """Where, and how much, the restored face covers the photo (aligned space)."""
        return face_mask(self.restored.shape[0]) if self.mask is None else self.mask


@lru_cache(maxsize=8)
def face_mask(size: int) -> np.ndarray:
    """A soft oval over the face in aligned space: 1 inside, feathered to 0 well before the crop
    border, so no square edge or seam can show."""
    s = size / 512.0
    mask = np.zeros((size, size), np.float32)
    center = (round(256 * s), round(272 * s))
    axes = (round(168 * s), round(184 * s))
    cv2.ellipse(mask, center, axes, 0, 0, 360, 1.0, thickness=-1, lineType=cv2.LINE_AA)
    sigma = 16 * s
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma, sigmaY=sigma)
    edge = max(2, round(4 * s))
    mask[:edge], mask[-edge:], mask[:, :edge], mask[:, -edge:] = 0, 0, 0, 0
    mask.setflags(write=False)
    return mask


def paste_faces(
    canvas: np.ndarray, patches: list[FacePatch], strength: float, scale: float = 1.0
) -> np.ndarray:
    """Blend each patch into `canvas` (float32 RGB, the photo at `scale`), in place.

    strength 0 leaves the canvas unchanged; 1 shows the restored face fully. Only each face's
    bounding region is touched; later faces blend over earlier ones where they overlap.
    """
    for patch in patches:
        _paste_one(canvas, patch, float(np.clip(strength, 0.0, 1.0)), scale)
    return canvas


@dataclass(frozen=True)
class PlacedFace:
    """A patch warped into the canvas: where it lands, its pixels and its blending weight.
    None of this depends on the strength, so a preview can keep it and re-blend cheaply."""

    region: tuple[int, int, int, int]  # x0, y0, x1, y1 in the canvas
    face: np.ndarray  # h x w x 3 float32
    alpha: np.ndarray  # h x w float32


def place(patch: FacePatch, scale: float, width: int, height: int) -> PlacedFace | None:
    """Warp a patch and its mask into the canvas region it covers; None when it misses."""
    inverse = inverse_matrix(patch.matrix, scale)
    face, mask, inverse = _prefilter(patch.restored, patch.blend_mask(), inverse)
    roi = _region(inverse, face.shape[0], width, height)
    if roi is None:
        return None
    x0, y0, x1, y1 = roi
    local = inverse.copy()
    local[:, 2] -= (x0, y0)
    dsize = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(face, local, dsize, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, local, dsize, flags=cv2.INTER_LINEAR)
    return PlacedFace(roi, warped, alpha)


_BAND_SAMPLES = 1 << 20  # temporaries of a few MB, however large the face


def blend(canvas: np.ndarray, placed: PlacedFace, strength: float) -> None:
    """canvas += strength * alpha * (face - canvas), over the placed region only.

    OpenCV's in-place arithmetic (about 3x faster than numpy's temporaries, which matters for
    the live preview; the export runs the very same function, so both always agree), a band of
    rows at a time so a face filling a 96-megapixel photo needs no full-size temporaries."""
    x0, y0, x1, y1 = placed.region
    rows = max(1, _BAND_SAMPLES // max(1, (x1 - x0) * 3))
    for top in range(0, y1 - y0, rows):
        region = canvas[y0 + top : min(y1, y0 + top + rows), x0:x1]
        band = slice(top, top + len(region))
        delta = cv2.subtract(placed.face[band], region)
        alpha = placed.alpha[band]
        cv2.multiply(delta, cv2.merge([alpha, alpha, alpha]), dst=delta, scale=strength)
        cv2.add(region, delta, dst=region)


def _paste_one(canvas: np.ndarray, patch: FacePatch, strength: float, scale: float) -> None:
    if strength <= 0:
        return
    placed = place(patch, scale, canvas.shape[1], canvas.shape[0])
    if placed is not None:
        blend(canvas, placed, strength)


def _prefilter(face: np.ndarray, mask: np.ndarray, inverse: np.ndarray):
    """Shrink the face first when it lands much smaller in the photo: a plain bilinear warp
    would alias fine restored detail (hair, eyelashes) into noise."""
    zoom = float(np.sqrt(abs(np.linalg.det(inverse[:, :2]))))
    if zoom >= 0.75:
        return face, mask, inverse
    size = face.shape[0]
    small = max(16, round(size * zoom))
    s = size / small
    face = cv2.resize(face, (small, small), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, (small, small), interpolation=cv2.INTER_AREA)
    # small-image pixel x sits at s*x + (s-1)/2 in the full-size face
    adjusted = inverse.copy()
    adjusted[:, :2] = inverse[:, :2] * s
    adjusted[:, 2] = inverse[:, :2] @ np.array([(s - 1) / 2, (s - 1) / 2]) + inverse[:, 2]
    return face, mask, adjusted


def _region(inverse: np.ndarray, size: int, width: int, height: int):
    """Bounding box in the canvas of the aligned square's image, clipped; None if outside."""
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
    points = corners @ inverse.T
    x0 = max(0, int(np.floor(points[:, 0].min())) - 1)
    y0 = max(0, int(np.floor(points[:, 1].min())) - 1)
    x1 = min(width, int(np.ceil(points[:, 0].max())) + 2)
    y1 = min(height, int(np.ceil(points[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def patch_region(patch: FacePatch, scale: float, width: int, height: int):
    """The canvas box (x0, y0, x1, y1) a patch can touch when pasted at `scale`; None if none."""
    return _region(inverse_matrix(patch.matrix, scale), patch.restored.shape[0], width, height)
