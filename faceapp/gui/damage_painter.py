"""Painting the damage mask on the photo canvas: the brush and eraser, and the red overlay.

The canvas hands its mouse to the painter while a tool is on; panning stays with the middle
button or Space + drag, zooming with the wheel, and Esc puts the tool down. The brush size is
in photo pixels (the mask's own pixels), so a stroke covers the same scratch at any zoom; the
round cursor shows it at the current zoom.

The overlay is drawn from reduced copies of the mask when zoomed out (level k: 2**k photo pixels
per overlay pixel, taking their maximum so a 1-pixel scratch stays visible), and a change
redraws only its rectangle, in the levels already made, when they are next painted.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, qRgba
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from faceapp.gui.damage_mask import DamageMask, Rect

BRUSH, ERASER = "brush", "eraser"
OVERLAY_ALPHA = 120  # of 255 where damaged: the damage itself still shows through
_COLOURS = [qRgba(255, 40, 40, v * OVERLAY_ALPHA // 255) for v in range(256)]


class MaskOverlay(QGraphicsItem):
    """The mask as translucent red over the photo (scene = photo pixels)."""

    def __init__(self, mask: DamageMask) -> None:
        super().__init__()
        self.mask = mask
        self._levels: dict[int, QPixmap] = {}
        self._dirty: dict[int, list[Rect]] = {}
        self.setZValue(5)  # over the before and after photos

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.mask.width, self.mask.height)

    def invalidate(self, rect: Rect) -> None:
        for level in self._levels:
            self._dirty.setdefault(level, []).append(rect)
        self.update(QRectF(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1]))

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        scale = abs(painter.worldTransform().m11()) * painter.device().devicePixelRatioF()
        level = max(0, math.floor(-math.log2(scale))) if scale > 0 else 0
        while level and min(self.mask.width, self.mask.height) >> level < 32:
            level -= 1
        pixmap = self._pixmap(level)
        step = 1 << level
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        target = QRectF(0, 0, pixmap.width() * step, pixmap.height() * step)
        painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))

    def _pixmap(self, level: int) -> QPixmap:
        step = 1 << level
        if level not in self._levels:
            width, height = -(-self.mask.width // step), -(-self.mask.height // step)
            pixmap = QPixmap(width, height)
            pixmap.fill(Qt.GlobalColor.transparent)
            self._levels[level] = pixmap
            self._dirty[level] = [(0, 0, self.mask.width, self.mask.height)]
        pixmap = self._levels[level]
        dirty = self._dirty.pop(level, [])
        if dirty and self.mask.doc.damage_mask is not None:
            painter = QPainter(pixmap)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            for rect in dirty:
                x, y, image = _reduced(self.mask.mask, rect, step)
                painter.drawImage(x, y, image)
            painter.end()
        return pixmap


def _reduced(mask: np.ndarray, rect: Rect, step: int) -> tuple[int, int, QImage]:
    """The overlay pixels for `rect` at 1/step of the size: (x, y, image) in level pixels."""
    x0, y0 = rect[0] // step, rect[1] // step
    x1, y1 = -(-rect[2] // step), -(-rect[3] // step)
    part = mask[y0 * step : y1 * step, x0 * step : x1 * step]
    if step > 1:
        pad = ((0, (y1 - y0) * step - part.shape[0]), (0, (x1 - x0) * step - part.shape[1]))
        part = np.pad(part, pad).reshape(y1 - y0, step, x1 - x0, step).max(axis=(1, 3))
    part = np.ascontiguousarray(part)
    height, width = part.shape
    image = QImage(part.data, width, height, part.strides[0], QImage.Format.Format_Indexed8)
    image.setColorTable(_COLOURS)
    return x0, y0, image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


class DamagePainter(QObject):
    """The canvas's painting mode and overlay. toolChanged(tool or "") when a tool is picked
    or put down (Esc)."""

    toolChanged = Signal(str)

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.tool = ""
        self.size = 12.0  # photo pixels
        self.shown = False
        self.mask: DamageMask | None = None
        self.overlay: MaskOverlay | None = None
        self._last: tuple[float, float] | None = None
        self.pointer: QPointF | None = None  # viewport position of the mouse, for the cursor

    @property
    def active(self) -> bool:
        return bool(self.tool) and self.mask is not None

    def set_tool(self, tool: str) -> None:
        if tool != self.tool:
            self.tool = tool
            self.end()
            if tool:
                self.canvas.set_add_face_mode(False)
                self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
            self.canvas.viewport().update()
            self.toolChanged.emit(tool)

    def set_size(self, size: float) -> None:
        self.size = max(1.0, float(size))
        self.canvas.viewport().update()

    def set_mask(self, mask: DamageMask | None) -> None:
        """The mask of the photo on the canvas (None: none to paint)."""
        if mask is self.mask:
            return
        self.end()
        if self.mask is not None:
            self.mask.unwatch(self._on_changed)
        self.mask = mask
        if mask is not None:
            mask.watch(self._on_changed)
        self.attach()

    def set_shown(self, shown: bool) -> None:
        self.shown = shown
        if self.overlay is not None:
            self.overlay.setVisible(shown)

    def attach(self) -> None:
        """(Re)build the overlay on the canvas's scene, e.g. after a new photo was shown."""
        self.detach()
        if self.mask is not None and self.canvas.has_photo():
            self.overlay = MaskOverlay(self.mask)
            self.overlay.setVisible(self.shown)
            self.canvas.scene().addItem(self.overlay)

    def detach(self) -> None:
        if self.overlay is not None:
            if self.overlay.scene() is not None:
                self.overlay.scene().removeItem(self.overlay)
            self.overlay = None

    def _on_changed(self, rect: Rect) -> None:
        if self.overlay is not None:
            self.overlay.invalidate(rect)

    # --- strokes (scene = photo pixels) ----------------------------------------------------

    def press(self, point: QPointF) -> None:
        self._last = (point.x(), point.y())
        self._dab(point)

    def move(self, point: QPointF) -> None:
        if self._last is not None:
            self._dab(point)

    def end(self) -> None:
        if self._last is not None and self.mask is not None:
            self._last = None
            self.mask.end_stroke()
        self._last = None

    def _dab(self, point: QPointF) -> None:
        here = (point.x(), point.y())
        self.mask.paint(self._last, here, self.size, erase=self.tool == ERASER)
        self._last = here

    # --- cursor ----------------------------------------------------------------------------

    def paint_cursor(self, painter: QPainter, zoom: float) -> None:
        """The brush outline at the mouse, in viewport pixels (`zoom`: view px per photo px)."""
        if not self.active or self.pointer is None:
            return
        radius = max(2.0, self.size * zoom / 2)
        for colour, width in ((QColor(0, 0, 0, 170), 3.0), (QColor(255, 255, 255), 1.0)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(self.pointer, radius, radius)
        if self.tool == ERASER:  # a bar across: this one takes damage away
            painter.drawLine(
                self.pointer - QPointF(radius * 0.6, 0), self.pointer + QPointF(radius * 0.6, 0)
            )
