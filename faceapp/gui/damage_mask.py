"""The editable damage mask of one photo: brush, eraser, a whole proposal, undo, redo, clear.

It writes into `PhotoDoc.damage_mask` (H x W uint8 at the photo's size, 255 = damaged), the
contract every reader of the damage goes by, and counts its states in `PhotoDoc.damage_version`
so a restored result knows which mask it was made with. Undo keeps, per step, only the
rectangle the step changed (a stroke on a 24-megapixel scan costs a few kilobytes), within
UNDO_STEPS steps and UNDO_BYTES bytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal

from faceapp.gui.state import PhotoDoc

UNDO_STEPS = 50
UNDO_BYTES = 256 * 1024 * 1024
DAMAGE = 255

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 excluded), photo pixels

_versions = itertools.count(1)  # a new mask state gets a number no other state had


@dataclass
class _Step:
    rect: Rect
    before: np.ndarray  # the mask inside rect before the step
    version: int  # doc.damage_version before the step


class DamageMask(QObject):
    """Edits one photo's damage mask. Watchers (`watch`) are told the rectangle of photo pixels
    that changed at every dab of a stroke; `edited` comes once a step is done (a stroke, a
    proposal, an undo).

    Dabs call plain Python watchers, not a Qt signal: with PySide6 6.12 on Python 3.11 each
    Python-side `emit()` drops a reference to `True`, and a stroke makes hundreds of dabs.
    """

    edited = Signal()

    def __init__(self, doc: PhotoDoc, size: tuple[int, int]) -> None:
        super().__init__()
        self.doc = doc
        self.width, self.height = size
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []  # steps undone, until a new edit
        self._stroke: list[tuple[Rect, np.ndarray]] = []  # patches of the stroke so far
        self._stroke_version = 0
        self._watchers: list[Callable[[Rect], None]] = []

    def watch(self, watcher: Callable[[Rect], None]) -> None:
        self._watchers.append(watcher)

    def unwatch(self, watcher: Callable[[Rect], None]) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def _changed(self, rect: Rect) -> None:
        for watcher in list(self._watchers):
            watcher(rect)

    @property
    def mask(self) -> np.ndarray:
        """The photo's mask, made (all clear) on first use; one set from elsewhere at another
        scale or type is brought to the contract's (photo size, uint8, 255 = damage)."""
        mask = self.doc.damage_mask
        shape = (self.height, self.width)
        if mask is None:
            self.doc.damage_mask = np.zeros(shape, np.uint8)
        elif mask.shape != shape or mask.dtype != np.uint8:
            marks = np.where(np.asarray(mask) > 0, DAMAGE, 0).astype(np.uint8)
            if marks.ndim == 3:
                marks = marks.max(axis=2)
            size = (self.width, self.height)
            self.doc.damage_mask = cv2.resize(marks, size, interpolation=cv2.INTER_NEAREST)
        return self.doc.damage_mask

    def has_damage(self) -> bool:
        return self.doc.damage_mask is not None and bool(self.doc.damage_mask.any())

    def can_undo(self) -> bool:
        return bool(self._undo) or bool(self._stroke)

    def can_redo(self) -> bool:
        return bool(self._redo) and not self._stroke

    # --- strokes ---------------------------------------------------------------------------

    def paint(
        self, start: tuple[float, float], end: tuple[float, float], size: float, erase=False
    ) -> None:
        """A round-ended segment `size` photo pixels wide; one stroke until end_stroke()."""
        if not self._stroke:
            self._stroke_version = self.doc.damage_version
        radius = max(0.5, size / 2)
        rect = _clip(_segment_rect(start, end, radius), self.width, self.height)
        if rect is None:
            return
        x0, y0, x1, y1 = rect
        patch = self.mask[y0:y1, x0:x1]
        self._stroke.append((rect, patch.copy()))
        shift = 4  # sub-pixel precision for cv2's drawing
        one = 1 << shift
        points = [(round((x - x0) * one), round((y - y0) * one)) for x, y in (start, end)]
        thickness = max(1, round(2 * radius))
        value = 0 if erase else DAMAGE
        cv2.line(patch, points[0], points[1], value, thickness, cv2.LINE_8, shift)  # round ends
        self.doc.damage_version = next(_versions)
        self._changed(rect)

    def end_stroke(self) -> None:
        """The stroke painted since the last call becomes one undo step."""
        if not self._stroke:
            return
        rect = _union([r for r, _ in self._stroke])
        x0, y0, x1, y1 = rect
        before = self.mask[y0:y1, x0:x1].copy()
        for (a0, b0, a1, b1), patch in reversed(self._stroke):  # back to the state before
            before[b0 - y0 : b1 - y0, a0 - x0 : a1 - x0] = patch
        self._stroke = []
        self._push(_Step(rect, before, self._stroke_version))
        self.edited.emit()

    # --- whole-mask steps ------------------------------------------------------------------

    def add(self, proposal: np.ndarray) -> None:
        """Adds a proposed mask (255 = damage) to what is painted: one undo step."""
        self.end_stroke()
        self._replace(np.maximum(self.mask, proposal.astype(np.uint8)))

    def clear(self) -> None:
        self.end_stroke()
        if self.has_damage():
            self._replace(np.zeros_like(self.mask))

    def _replace(self, new: np.ndarray) -> None:
        old = self.mask
        diff = old != new
        rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
        if not rows.size:
            return
        rect = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        x0, y0, x1, y1 = rect
        self._push(_Step(rect, old[y0:y1, x0:x1].copy(), self.doc.damage_version))
        old[y0:y1, x0:x1] = new[y0:y1, x0:x1]
        self.doc.damage_version = next(_versions)
        self._changed(rect)
        self.edited.emit()

    # --- undo ------------------------------------------------------------------------------

    def undo(self) -> bool:
        """Back one step (a stroke, a proposal, a clear); False when there is none."""
        self.end_stroke()
        return self._swap(self._undo, self._redo)

    def redo(self) -> bool:
        """The step undone last, again; False when there is none (a new edit drops them)."""
        self.end_stroke()
        return self._swap(self._redo, self._undo)

    def _swap(self, source: list[_Step], target: list[_Step]) -> bool:
        if not source:
            return False
        step = source.pop()
        x0, y0, x1, y1 = step.rect
        region = self.mask[y0:y1, x0:x1]
        target.append(_Step(step.rect, region.copy(), self.doc.damage_version))
        region[...] = step.before
        self.doc.damage_version = step.version
        self._trim()
        self._changed(step.rect)
        self.edited.emit()
        return True

    def _push(self, step: _Step) -> None:
        self._undo.append(step)
        self._redo.clear()
        self._trim()

    def _trim(self) -> None:
        for steps in (self._undo, self._redo):
            while len(steps) > UNDO_STEPS or (
                len(steps) > 1 and sum(s.before.nbytes for s in steps) > UNDO_BYTES
            ):
                steps.pop(0)


def _segment_rect(start, end, radius: float) -> Rect:
    xs, ys = (start[0], end[0]), (start[1], end[1])
    pad = radius + 1
    return (
        int(np.floor(min(xs) - pad)),
        int(np.floor(min(ys) - pad)),
        int(np.ceil(max(xs) + pad)) + 1,
        int(np.ceil(max(ys) + pad)) + 1,
    )


def _clip(rect: Rect, width: int, height: int) -> Rect | None:
    x0, y0, x1, y1 = max(0, rect[0]), max(0, rect[1]), min(width, rect[2]), min(height, rect[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def _union(rects: list[Rect]) -> Rect:
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )
