"""Upscaling the whole photo: Lanczos, or a Real-ESRGAN-family model run in overlapping tiles
so that memory stays bounded on any photo size, on the CPU too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from faceapp.core.models.loading import UpscaleModel
from faceapp.core.progress import CancelToken
from faceapp.core.runtime.device import free_device_memory, is_out_of_memory

MIN_TILE = 64
UPSCALE_TILE, UPSCALE_OVERLAP = 256, 16  # interior tiles are (256 + 2 * 16)² pixels


@dataclass(frozen=True)
class Tile:
    x0: int  # the region this tile fills in the output, in input pixels
    y0: int
    x1: int
    y1: int


def lanczos(image: np.ndarray, scale: int) -> np.ndarray:
    if scale == 1:
        return image.copy()
    h, w = image.shape[:2]
    out = cv2.resize(image, (w * scale, h * scale), interpolation=cv2.INTER_LANCZOS4)
    return np.clip(out, 0.0, 1.0, out=out)


def upscale_with_model(
    image: np.ndarray,
    model: UpscaleModel,
    scale: int,
    device: torch.device,
    tile: int = UPSCALE_TILE,
    overlap: int = UPSCALE_OVERLAP,
    on_tile=None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """float32 RGB [0, 1] image -> upscaled by `scale`, tile by tile. When the GPU runs out of
    memory the tile size is halved; below MIN_TILE the job moves to the CPU."""
    while True:
        try:
            return _run_tiles(image, model, scale, device, tile, overlap, on_tile, cancel)
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            free_device_memory(device)
            if tile // 2 >= MIN_TILE:
                tile //= 2
            elif device.type != "cpu":
                device = torch.device("cpu")
                model.to(device)
            else:
                raise


def tiles(width: int, height: int, tile: int) -> Iterator[Tile]:
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            yield Tile(x0, y0, min(x0 + tile, width), min(y0 + tile, height))


@torch.inference_mode()
def _run_tiles(image, model, scale, device, tile, overlap, on_tile, cancel) -> np.ndarray:
    h, w = image.shape[:2]
    out = np.empty((h * scale, w * scale, 3), np.float32)
    model.to(device)
    all_tiles = list(tiles(w, h, tile))
    for i, t in enumerate(all_tiles):
        if cancel:
            cancel.raise_if_cancelled()
        out[t.y0 * scale : t.y1 * scale, t.x0 * scale : t.x1 * scale] = _upscale_tile(
            image, t, model, scale, device, overlap
        )
        if on_tile:
            on_tile(i + 1, len(all_tiles))
    return out


def _upscale_tile(image, t: Tile, model: UpscaleModel, scale: int, device, overlap: int):
    h, w = image.shape[:2]
    px0, py0 = max(0, t.x0 - overlap), max(0, t.y0 - overlap)
    px1, py1 = min(w, t.x1 + overlap), min(h, t.y1 + overlap)
    patch = torch.from_numpy(np.ascontiguousarray(image[py0:py1, px0:px1].transpose(2, 0, 1)))
    result = model(patch.unsqueeze(0).to(device))[0].float().cpu().numpy().transpose(1, 2, 0)
    if model.scale != scale:
        size = ((px1 - px0) * scale, (py1 - py0) * scale)
        interpolation = cv2.INTER_AREA if model.scale > scale else cv2.INTER_CUBIC
        result = np.clip(cv2.resize(result, size, interpolation=interpolation), 0, 1)
    ox, oy = (t.x0 - px0) * scale, (t.y0 - py0) * scale
    return result[oy : oy + (t.y1 - t.y0) * scale, ox : ox + (t.x1 - t.x0) * scale]
