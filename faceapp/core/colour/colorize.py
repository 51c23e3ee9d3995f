"""Colorizing with DDColor, following the official pipeline (piddnad/DDColor).

Official steps: the photo as float BGR in [0, 1]; its full-resolution L (OpenCV Lab); a copy
resized to S x S (bilinear, aspect ratio not kept), reduced to its L and turned back into a grey
RGB picture for the network; the predicted a/b (S x S) upsampled with *nearest* neighbours and
recombined with the full-resolution L. The a/b prediction is kept (:class:`ColourPrediction`)
so that the strength can be changed without running the network again; strength scales a/b in
Lab, so luminance and detail always stay the photo's own (0 = grey, 1 = the official result).
The recombination runs in bands of rows, so a 24-megapixel scan needs little extra memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from faceapp.core.models.loading import ColorizeModel

DEFAULT_SIZE = 512  # the official pipeline's input_size
SIZE_MULTIPLE = 32
_BAND_ROWS = 256


@dataclass(frozen=True)
class ColourPrediction:
    """The network's a/b at its own resolution, ready to be applied to the full photo."""

    ab: np.ndarray  # (S, S, 2) float32, OpenCV Lab a/b


def check_size(size: int) -> int:
    if size < SIZE_MULTIPLE or size % SIZE_MULTIPLE:
        raise ValueError(f"The colorize size must be a multiple of {SIZE_MULTIPLE} (got {size}).")
    return size


def _to_lab(rgb: bool) -> int:
    return cv2.COLOR_RGB2Lab if rgb else cv2.COLOR_BGR2Lab


def _from_lab(rgb: bool) -> int:
    return cv2.COLOR_LAB2RGB if rgb else cv2.COLOR_LAB2BGR


def network_input(bgr: np.ndarray, size: int, rgb: bool = False) -> torch.Tensor:
    """(1, 3, S, S) grey RGB [0, 1] from an HxWx3 float32 photo (BGR, or RGB with rgb=True),
    as the official code makes it."""
    resized = cv2.resize(bgr, (size, size))
    lightness = cv2.cvtColor(resized, _to_lab(rgb))[:, :, :1]
    lab = np.concatenate((lightness, 0 * lightness, 0 * lightness), -1)
    grey_rgb = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return torch.from_numpy(grey_rgb.transpose((2, 0, 1))).float().unsqueeze(0)


@torch.inference_mode()
def predict(
    model: ColorizeModel, bgr: np.ndarray, size: int = DEFAULT_SIZE, rgb: bool = False
) -> ColourPrediction:
    """Run the network once on an HxWx3 float32 [0, 1] photo (BGR, or RGB with rgb=True)."""
    device = next(model.module.parameters()).device
    x = network_input(bgr, check_size(size), rgb).to(device)
    ab = model(x)[0].float().cpu().numpy().transpose(1, 2, 0)
    return ColourPrediction(np.ascontiguousarray(ab, dtype=np.float32))


def nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """Source index of each output index, exactly as torch's 'nearest' interpolate picks it."""
    if in_size == out_size:
        return np.arange(out_size)
    if out_size == 2 * in_size:
        return np.arange(out_size) >> 1
    scale = np.float32(in_size / out_size)
    index = np.floor(np.arange(out_size, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(index, in_size - 1)


def apply(
    prediction: ColourPrediction,
    bgr: np.ndarray,
    strength: float = 1.0,
    rgb: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """HxWx3 float32: the photo's L with the predicted a/b scaled by `strength` (0..1).

    `out` may be the input itself (each band is read before it is written).
    """
    out = np.empty_like(bgr, dtype=np.float32) if out is None else out
    for rows, band_ab in _bands(prediction.ab, bgr.shape[0], bgr.shape[1]):
        lightness = cv2.cvtColor(np.ascontiguousarray(bgr[rows]), _to_lab(rgb))[:, :, :1]
        ab = band_ab if strength == 1.0 else band_ab * np.float32(strength)
        out[rows] = cv2.cvtColor(np.concatenate((lightness, ab), -1), _from_lab(rgb))
    return out


def _bands(ab: np.ndarray, height: int, width: int) -> Iterator[tuple[slice, np.ndarray]]:
    rows_from = nearest_indices(ab.shape[0], height)
    cols_from = nearest_indices(ab.shape[1], width)
    for top in range(0, height, _BAND_ROWS):
        rows = slice(top, min(top + _BAND_ROWS, height))
        yield rows, ab[rows_from[rows]][:, cols_from]


def to_uint8(bgr: np.ndarray) -> np.ndarray:
    """Official rounding (x * 255, rounded), clipped first: the official code lets it wrap."""
    return np.clip(np.round(bgr * 255.0), 0, 255).astype(np.uint8)


def from_uint8(bgr8: np.ndarray) -> np.ndarray:
    """The official float conversion: uint8 / 255.0 (in float64), then float32."""
    return (bgr8 / 255.0).astype(np.float32)
