"""Repairing the masked damage of a photo: OpenCV (Telea, built in) or LaMa.

The work runs on cells of a grid, each with a margin of context around it; only cells that hold
damage are processed and only their masked pixels are written back, so memory stays bounded
whatever the scan's size and a clean area is never touched. At the photo's edges the context
window slides inwards instead of shrinking, so that every window of a photo at least that large
has one fixed size: the shape LaMa's compiled form (core/runtime) is built for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.core.errors import FaceappError
from faceapp.core.models.loading import InpaintModel
from faceapp.core.progress import CancelToken
from faceapp.core.repair import lama

OPENCV = "opencv"
LAMA = "lama"
METHODS = (OPENCV, LAMA)
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Grid:
    cell: int  # pixels of a cell's side
    margin: int  # context on every side of a cell

    @property
    def window(self) -> int:
        """The side of a cell with its context: the crop each model call sees."""
        return self.cell + 2 * self.margin


_GRIDS = {OPENCV: Grid(256, 16), LAMA: Grid(512, 128)}
LAMA_WINDOW = _GRIDS[LAMA].window  # 768, a multiple of 8: LaMa's input needs no padding


def repair(
    image: np.ndarray,
    mask: np.ndarray,
    model: InpaintModel | None = None,
    on_cell: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """A repaired copy of an HxWx3 float32 RGB [0, 1] image; `mask` > 0 marks the damage.

    With `model` (LaMa) the damage is filled with the network, else with OpenCV's Telea method.
    """
    mask = fit_mask(mask, image.shape[:2])
    out = image.copy()
    grid = _GRIDS[LAMA if model is not None else OPENCV]
    cells = damaged_cells(mask, grid.cell)
    for done, (top, left) in enumerate(cells):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if on_cell is not None:
            on_cell(done, len(cells))
        _repair_cell(out, mask, (top, left), grid, model)
    if on_cell is not None:
        on_cell(len(cells), len(cells))
    return out


def fit_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A bool HxW mask for the photo; a mask painted at another scale (same shape) is resized."""
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    if mask.shape != tuple(shape):
        (mh, mw), (h, w) = mask.shape, shape
        if abs(mw / mh - w / h) > 0.01 * (w / h):
            raise FaceappError(
                f"The damage mask is {mw} × {mh} pixels but the photo is {w} × {h}: "
                "they must have the same shape."
            )
        mask = cv2.resize(mask.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_NEAREST)
    return mask > 0


def damaged_cells(mask: np.ndarray, cell: int) -> list[tuple[int, int]]:
    """(top, left) of the grid cells that hold masked pixels."""
    h, w = mask.shape
    return [
        (top, left)
        for top in range(0, h, cell)
        for left in range(0, w, cell)
        if mask[top : top + cell, left : left + cell].any()
    ]


def _repair_cell(
    out: np.ndarray,
    mask: np.ndarray,
    corner: tuple[int, int],
    grid: Grid,
    model: InpaintModel | None,
) -> None:
    h, w = mask.shape
    top, left = corner
    y0, y1 = _window(top, h, grid)
    x0, x1 = _window(left, w, grid)
    # the context is the repaired picture so far: cells already done are no longer damage
    crop, crop_mask = out[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    filled = lama.inpaint(model, crop, crop_mask) if model else _telea(crop, crop_mask)
    cy, cx = top - y0, left - x0
    ch, cw = min(grid.cell, h - top), min(grid.cell, w - left)
    inner = crop_mask[cy : cy + ch, cx : cx + cw]
    target = out[top : top + ch, left : left + cw]
    target[inner] = filled[cy : cy + ch, cx : cx + cw][inner]


def _window(start: int, length: int, grid: Grid) -> tuple[int, int]:
    """The span of the context window around the cell at `start`: `margin` before it where the
    photo allows, moved inwards at the far edge so that it keeps its full size."""
    first = max(0, min(start - grid.margin, length - grid.window))
    return first, min(length, first + grid.window)


TELEA_RADIUS = 5


def _telea(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Telea inpainting per channel in float32, so 16-bit photos keep their precision.

    OpenCV's float path expects the 0..255 scale (on [0, 1] it returns garbage).
    """
    mask8 = mask.astype(np.uint8)
    levels = crop * np.float32(255.0)
    channels = [
        cv2.inpaint(np.ascontiguousarray(levels[:, :, c]), mask8, TELEA_RADIUS, cv2.INPAINT_TELEA)
        for c in range(crop.shape[2])
    ]
    return np.dstack(channels) * np.float32(1.0 / 255.0)


def clear_boxes(mask: np.ndarray, boxes: Sequence[Box], grow: float = 0.15) -> np.ndarray:
    """A copy of the mask without the given boxes (grown by `grow` of their size)."""
    out = mask.copy()
    h, w = out.shape[:2]
    for x0, y0, x1, y1 in boxes:
        dx, dy = grow * (x1 - x0), grow * (y1 - y0)
        left, top = max(0, int(x0 - dx)), max(0, int(y0 - dy))
        right, bottom = min(w, int(np.ceil(x1 + dx))), min(h, int(np.ceil(y1 + dy)))
        out[top:bottom, left:right] = 0
    return out
