"""The photo canvas: one photo with a before/after split, face boxes, zoom and pan.

Scene coordinates are `before` pixels. The photos are scene items; everything that keeps its
size on screen (face boxes, badges, divider, labels, rubber band, hint text) is painted in
viewport pixels in drawForeground, so outlines stay 2 px at any zoom. Painting the damage
mask (brush, eraser, the red overlay) is `self.damage`, a damage_painter.DamagePainter: while
one of its tools is on, the left button paints and the middle button or Space + drag pans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum, auto
from typing import Protocol

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QToolTip,
    QWidget,
)

from faceapp.gui.damage_painter import DamagePainter

SMALL_FACE_TIP = "This face is small: restoring it may not help much"
MIN_BOX = 8.0  # image pixels, for a drawn face box
CLICK_SLOP = 4  # viewport pixels a click may wander before it becomes a pan
DIVIDER_GRAB = 6.0  # viewport pixels either side of the divider line
ZOOM_STEP = 1.25
MAX_ZOOM = 32.0
BACKGROUND = QColor(0x2B, 0x2B, 0x2B)
HALO = QColor(0, 0, 0, 160)
EXCLUDED = QColor(200, 200, 200)
WARNING = QColor(255, 176, 32)
LABEL_FILL = QColor(0, 0, 0, 150)
HINT_TEXT = QColor(255, 255, 255, 190)


@dataclass(frozen=True)
class FaceMark:
    number: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in `before` pixels
    included: bool
    too_small: bool
    manual: bool


class _Drag(Enum):
    NONE = auto()
    PENDING = auto()  # pressed: a click, unless it moves past CLICK_SLOP and becomes a pan
    PAN = auto()
    DIVIDER = auto()
    RUBBER = auto()
    PAINT = auto()  # a brush or eraser stroke (damage_painter)


class LevelSource(Protocol):
    """A picture that can draw itself at any level of detail (level k: 1 / 2**k of the full
    size, each side halved k times rounding down), e.g. the live preview, which blends the
    faces at the resolution being painted."""

    def image(self, level: int) -> QImage:
        """The whole picture at `level`; may borrow memory, and is drawn from at once."""

    def changed(self, level: int) -> list[QRect]:
        """The parts (level pixels) that changed since the previous picture."""


class _PhotoItem(QGraphicsItem):
    """A photo stretched over `target`; only the part right of `left` is drawn.

    Far zoomed out it draws from a halved copy (made once, on first need): scaling the full
    image by less than 1/2 every frame is slower and aliases. With a LevelSource, each level
    comes from the source instead, and a change redraws only its changed parts of the level
    being painted, when it is painted.
    """

    def __init__(self, image: QImage, target: QRectF, source: LevelSource | None = None) -> None:
        super().__init__()
        self._pixmaps = {0: QPixmap.fromImage(image)}  # by level
        self._source = source
        self._stale: set[int] = set()  # levels awaiting a refresh from the source
        self._target = QRectF(target)
        self._left = target.left()

    def boundingRect(self) -> QRectF:
        return self._target

    def set_left(self, x: float) -> None:
        if x != self._left:
            self._left = x
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        part = QRectF(self._target)
        part.setLeft(max(self._left, self._target.left()))
        if part.width() <= 0:
            return
        full = self._pixmaps[0]
        dpr = painter.device().devicePixelRatioF()
        scale = abs(painter.worldTransform().m11()) * dpr * self._target.width() / full.width()
        pixmap = self._pixmap_for(scale)
        ratio = pixmap.width() / self._target.width()
        source = QRectF(
            (part.left() - self._target.left()) * ratio, 0, part.width() * ratio, pixmap.height()
        )
        # Smooth while shrinking or mildly enlarging; crisp pixels when zoomed far in.
        smooth = scale * full.width() / pixmap.width() < 2.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawPixmap(part, pixmap, source)

    def update_from(self, source: LevelSource) -> None:
        """The picture changed where `source.changed` says. Nothing is drawn here: each level
        is refreshed when a paint first needs it, so a strength change at "Fit" never touches
        the full-size pixmap."""
        self._source = source
        self._stale = set(self._pixmaps)
        self.update()

    def _refresh(self, level: int) -> None:
        if level not in self._stale or self._source is None:
            return
        self._stale.discard(level)
        image = self._source.image(level)
        painter = QPainter(self._pixmaps[level])
        for rect in self._source.changed(level):
            painter.drawImage(rect.topLeft(), image, rect)
        painter.end()

    def _make_level(self, level: int) -> QPixmap:
        if self._source is not None:  # straight from the source: no level in between
            return QPixmap.fromImage(self._source.image(level).copy())
        nearest = max(k for k in self._pixmaps if k < level)
        finer = self._pixmaps[nearest].toImage()
        for _ in range(level - nearest):  # halving step by step: smoother than one big shrink
            finer = finer.scaled(
                finer.width() // 2,
                finer.height() // 2,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        return QPixmap.fromImage(finer)

    def _pixmap_for(self, scale: float) -> QPixmap:
        level = max(0, math.floor(-math.log2(scale))) if scale > 0 else 0
        full = self._pixmaps[0]
        while level and min(full.width() >> level, full.height() >> level) < 32:
            level -= 1  # not smaller than a thumbnail
        if level not in self._pixmaps:
            self._pixmaps[level] = self._make_level(level)
        self._refresh(level)
        return self._pixmaps[level]


class PhotoCanvas(QGraphicsView):
    """Shows one photo; with an `after` image, a draggable before/after split.

    Signals: dividerMoved(fraction), zoomChanged(zoom), faceClicked(number),
    faceBoxDrawn((x1, y1, x2, y2)) and addFaceModeChanged(on).
    """

    dividerMoved = Signal(float)
    zoomChanged = Signal(float)
    faceClicked = Signal(int)
    faceBoxDrawn = Signal(tuple)
    addFaceModeChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)
        self._before: _PhotoItem | None = None
        self._after: _PhotoItem | None = None
        self._image_rect = QRectF()
        self._divider = 0.5
        self._faces: list[FaceMark] = []
        self._faces_visible = True
        self._add_face = False
        self._placeholder = ""
        self._fit = True
        self._drag = _Drag.NONE
        self._press = QPoint()
        self._last = QPoint()
        self._grab_offset = 0.0
        self._rubber = (QPointF(), QPointF())
        self._space = False  # Space held: dragging pans even while a painting tool is on
        self.damage = DamagePainter(self)
        self._setup_view()

    def _setup_view(self) -> None:
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # Labels and the hint are fixed to the viewport: scrolling by blitting would smear them.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setBackgroundBrush(BACKGROUND)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        # Let dropped files reach the window around the canvas.
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)

    # --- content -------------------------------------------------------------------------

    def set_before(self, image: QImage) -> None:
        """Show a new photo, fitted; clears the after image and the face boxes."""
        self.clear()
        if image.isNull():
            return
        self._image_rect = QRectF(0, 0, image.width(), image.height())
        self._scene.setSceneRect(self._image_rect)
        self._before = _PhotoItem(image, self._image_rect)
        self._scene.addItem(self._before)
        self.damage.attach()
        self.zoom_fit()

    def set_after(self, image: QImage | None, source: LevelSource | None = None) -> None:
        """Show `image` right of the divider, stretched over the before photo's rectangle.
        With a `source`, the reduced levels (zoomed out) come from it, not from `image`."""
        if self._after is not None:
            self._scene.removeItem(self._after)
            self._after = None
        if image is not None and not image.isNull() and self._before is not None:
            self._after = _PhotoItem(image, self._image_rect, source)
            self._after.setZValue(1)
            self._after.set_left(self._divider * self._image_rect.width())
            self._scene.addItem(self._after)
        self.viewport().update()

    def update_after(self, source: LevelSource) -> None:
        """Only `source.changed` parts of the after image changed, e.g. the faces when the
        strength moves: refresh those, at the level being shown, instead of replacing it."""
        if self._after is None:
            self.set_after(source.image(0).copy(), source)
            return
        self._after.update_from(source)

    def clear(self) -> None:
        """Back to the empty state with the placeholder hint."""
        self.set_add_face_mode(False)
        self.damage.end()
        self.damage.detach()
        self.set_after(None)
        if self._before is not None:
            self._scene.removeItem(self._before)
            self._before = None
        self._image_rect = QRectF()
        self._scene.setSceneRect(QRectF())
        self._faces = []
        self._drag = _Drag.NONE
        self.viewport().update()

    def set_faces(self, faces: list[FaceMark]) -> None:
        self._faces = list(faces)
        self.viewport().update()

    def set_faces_visible(self, visible: bool) -> None:
        self._faces_visible = visible
        self.viewport().update()

    def faces_visible(self) -> bool:
        return self._faces_visible

    def has_photo(self) -> bool:
        return self._before is not None

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.viewport().update()

    # --- divider ---------------------------------------------------------------------------

    def divider(self) -> float:
        return self._divider

    def set_divider(self, fraction: float) -> None:
        """Divider position as a fraction of the image width (0 = all after, 1 = all before)."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction == self._divider:
            return
        self._divider = fraction
        if self._after is not None:
            self._after.set_left(fraction * self._image_rect.width())
        self.viewport().update()
        self.dividerMoved.emit(fraction)

    # --- zoom ------------------------------------------------------------------------------

    def zoom(self) -> float:
        """Screen (device) pixels per `before` pixel."""
        return self.transform().m11() * self.devicePixelRatioF()

    def zoom_fit(self) -> None:
        """Show the whole photo, and keep it fitted when the canvas is resized."""
        self._fit = True
        self._set_zoom(self._fit_zoom())
        self.centerOn(self._image_rect.center())

    def zoom_actual(self) -> None:
        self._set_zoom(1.0)

    def zoom_in(self) -> None:
        self._set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_zoom(self.zoom() / ZOOM_STEP)

    def _fit_zoom(self) -> float:
        if self._image_rect.isEmpty():
            return 1.0
        view = self.viewport().rect()
        scale = min(
            view.width() / self._image_rect.width(), view.height() / self._image_rect.height()
        )
        return max(scale, 1e-3) * self.devicePixelRatioF()

    def _set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom so the scene point under `anchor` (viewport pixels; default centre) stays put."""
        if self._before is None:
            return
        fit = self._fit_zoom()
        zoom = min(max(zoom, min(fit, 1.0)), max(fit, MAX_ZOOM))
        self._fit = math.isclose(zoom, fit, rel_tol=1e-6)
        old = self.zoom()
        anchor = QRectF(self.viewport().rect()).center() if anchor is None else anchor
        fixed = self._to_scene(anchor)
        scale = zoom / self.devicePixelRatioF()
        self.setTransform(QTransform.fromScale(scale, scale))
        moved = self._to_view(fixed) - anchor
        self._scroll_by(moved.x(), moved.y())
        if not math.isclose(old, zoom, rel_tol=1e-9):
            self.zoomChanged.emit(zoom)

    def _scroll_by(self, dx: float, dy: float) -> None:
        bar = self.horizontalScrollBar()
        bar.setValue(bar.value() + round(dx))
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + round(dy))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit and self._before is not None:
            self.zoom_fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if self._before is None or steps == 0:
            event.ignore()
            return
        self._set_zoom(self.zoom() * ZOOM_STEP**steps, event.position())
        event.accept()

    # --- add-face mode ---------------------------------------------------------------------

    def add_face_mode(self) -> bool:
        return self._add_face

    def set_add_face_mode(self, on: bool) -> None:
        """While on, dragging draws a face box (emitted as faceBoxDrawn); Esc cancels."""
        on = bool(on) and self._before is not None
        if on == self._add_face:
            return
        self._add_face = on
        if on:
            self.damage.set_tool("")
        if self._drag == _Drag.RUBBER:
            self._drag = _Drag.NONE
        if on:
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._update_cursor(self.viewport().mapFromGlobal(QCursor.pos()))
        self.viewport().update()
        self.addFaceModeChanged.emit(on)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and (self._add_face or self.damage.tool):
            self.set_add_face_mode(False)
            self.damage.set_tool("")
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self._update_cursor(self.viewport().mapFromGlobal(QCursor.pos()))
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_cursor(self.viewport().mapFromGlobal(QCursor.pos()))
            event.accept()
            return
        super().keyReleaseEvent(event)

    def _finish_rubber(self) -> None:
        box = QRectF(*self._rubber).normalized() & self._image_rect
        if box.width() >= MIN_BOX and box.height() >= MIN_BOX:
            self.faceBoxDrawn.emit((box.left(), box.top(), box.right(), box.bottom()))
            self.set_add_face_mode(False)

    # --- mouse -----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        middle = event.button() == Qt.MouseButton.MiddleButton
        if (event.button() != Qt.MouseButton.LeftButton and not middle) or self._before is None:
            super().mousePressEvent(event)
            return
        pos = event.position()
        self._press = self._last = pos.toPoint()
        if middle or self._space:
            self._drag = _Drag.PAN
        elif self.damage.active:
            self._drag = _Drag.PAINT
            self.damage.press(self._to_scene(pos))
        elif self._add_face:
            self._drag = _Drag.RUBBER
            self._rubber = (self._to_scene(pos), self._to_scene(pos))
        elif self._near_divider(pos):
            self._drag = _Drag.DIVIDER
            self._grab_offset = self._divider_x() - pos.x()
        else:
            self._drag = _Drag.PENDING
        self._update_cursor(pos)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.mousePressEvent(event)  # a quick second click is just another click

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self.damage.pointer = QPointF(pos)
        if self.damage.active:
            self.viewport().update()  # the brush outline follows the mouse
        if self._drag == _Drag.PAINT:
            self.damage.move(self._to_scene(pos))
        elif self._drag == _Drag.RUBBER:
            self._rubber = (self._rubber[0], self._to_scene(pos))
            self.viewport().update()
        elif self._drag == _Drag.DIVIDER:
            x = self._to_scene(QPointF(pos.x() + self._grab_offset, pos.y())).x()
            self.set_divider(x / self._image_rect.width())
        elif self._drag in (_Drag.PENDING, _Drag.PAN):
            self._pan_to(pos.toPoint())
        self._update_cursor(pos)
        event.accept()

    def _pan_to(self, pos: QPoint) -> None:
        if self._drag == _Drag.PENDING and (pos - self._press).manhattanLength() <= CLICK_SLOP:
            return
        if self._drag == _Drag.PENDING:
            self._drag = _Drag.PAN
        delta = pos - self._last
        self._last = pos
        self._scroll_by(-delta.x(), -delta.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            super().mouseReleaseEvent(event)
            return
        drag, self._drag = self._drag, _Drag.NONE
        if drag == _Drag.PAINT:
            self.damage.end()
        elif drag == _Drag.RUBBER:
            self._rubber = (self._rubber[0], self._to_scene(event.position()))
            self._finish_rubber()
        elif drag == _Drag.PENDING:
            face = self._face_at(QPointF(self._press))
            if face is not None:
                self.faceClicked.emit(face.number)
        self._update_cursor(event.position())
        self.viewport().update()
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave and self.damage.pointer is not None:
            self.damage.pointer = None  # no brush outline left behind at the edge
            self.viewport().update()
        if event.type() == QEvent.Type.ToolTip:
            face = self._face_at(QPointF(event.pos()))
            if face is not None and face.too_small:
                QToolTip.showText(event.globalPos(), SMALL_FACE_TIP, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def _update_cursor(self, pos: QPointF) -> None:
        self.viewport().setCursor(self._cursor_for(QPointF(pos)))

    def _cursor_for(self, pos: QPointF) -> Qt.CursorShape:
        if self._drag == _Drag.PAN:
            return Qt.CursorShape.ClosedHandCursor
        if self._space:
            return Qt.CursorShape.OpenHandCursor
        if self.damage.active:
            return Qt.CursorShape.BlankCursor  # the brush outline is the cursor
        if self._add_face:
            return Qt.CursorShape.CrossCursor
        if self._drag == _Drag.DIVIDER or (self._drag == _Drag.NONE and self._near_divider(pos)):
            return Qt.CursorShape.SizeHorCursor
        if self._drag == _Drag.NONE and self._face_at(pos) is not None:
            return Qt.CursorShape.PointingHandCursor
        return Qt.CursorShape.ArrowCursor

    # --- geometry --------------------------------------------------------------------------

    def _to_scene(self, pos: QPointF) -> QPointF:
        inverse, _ = self.viewportTransform().inverted()
        return inverse.map(QPointF(pos))

    def _to_view(self, point: QPointF) -> QPointF:
        return self.viewportTransform().map(QPointF(point))

    def _image_on_screen(self) -> QRectF:
        """The visible part of the photo, in viewport pixels."""
        shown = self.viewportTransform().mapRect(self._image_rect)
        return shown & QRectF(self.viewport().rect())

    def _divider_x(self) -> float:
        return self._to_view(QPointF(self._divider * self._image_rect.width(), 0)).x()

    def _near_divider(self, pos: QPointF) -> bool:
        if self._after is None:
            return False
        shown = self._image_on_screen()
        inside = shown.top() <= pos.y() <= shown.bottom()
        return inside and abs(pos.x() - self._divider_x()) <= DIVIDER_GRAB

    def _face_at(self, pos: QPointF) -> FaceMark | None:
        """The smallest visible face box under a viewport position."""
        if not self._faces_visible or self._before is None:
            return None
        point = self._to_scene(pos)
        hits = [face for face in self._faces if _box_rect(face).contains(point)]
        return min(hits, key=lambda face: _area(face.box), default=None)

    # --- painting --------------------------------------------------------------------------

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()  # from here on: viewport pixels
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._before is None:
            self._paint_placeholder(painter)
        else:
            self._paint_overlay(painter)
        painter.restore()

    def _paint_overlay(self, painter: QPainter) -> None:
        palette = self.palette()
        accent = palette.color(QPalette.ColorRole.Highlight)
        if self._faces_visible:
            accent_text = palette.color(QPalette.ColorRole.HighlightedText)
            transform = self.viewportTransform()
            for face in self._faces:
                _paint_face(painter, transform.mapRect(_box_rect(face)), face, accent, accent_text)
        if self._after is not None:
            shown = self._image_on_screen()
            _paint_divider(painter, self._divider_x(), shown)
            _paint_labels(painter, self._divider_x(), shown)
        if self._drag == _Drag.RUBBER:
            box = self.viewportTransform().mapRect(QRectF(*self._rubber).normalized())
            _paint_rubber(painter, box & self._image_on_screen(), accent)
        self.damage.paint_cursor(painter, self.transform().m11())

    def _paint_placeholder(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.setPen(HINT_TEXT)
        area = QRectF(self.viewport().rect()).adjusted(24, 24, -24, -24)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(area, int(flags), self._placeholder)


def _box_rect(face: FaceMark) -> QRectF:
    x1, y1, x2, y2 = face.box
    return QRectF(QPointF(x1, y1), QPointF(x2, y2)).normalized()


def _area(box: tuple[float, float, float, float]) -> float:
    return abs(box[2] - box[0]) * abs(box[3] - box[1])


def _pen(colour: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    pen.setCosmetic(True)
    return pen


def _stroke(
    painter: QPainter,
    path: QPainterPath,
    colour: QColor,
    style: Qt.PenStyle = Qt.PenStyle.SolidLine,
) -> None:
    """A 2 px line over a dark 4 px halo, so it reads on light and dark photos alike."""
    painter.strokePath(path, _pen(HALO, 4))
    painter.strokePath(path, _pen(colour, 2, style))


def _paint_face(
    painter: QPainter, box: QRectF, face: FaceMark, accent: QColor, accent_text: QColor
) -> None:
    colour = accent if face.included else EXCLUDED
    style = Qt.PenStyle.SolidLine if face.included else Qt.PenStyle.DashLine
    radius = min(6.0, box.width() / 4, box.height() / 4)
    path = QPainterPath()
    path.addRoundedRect(box, radius, radius)
    _stroke(painter, path, colour, style)
    text_colour = accent_text if face.included else QColor(Qt.GlobalColor.black)
    badge = _badge(painter, box, str(face.number), colour, text_colour)
    if face.too_small:
        warn = QRectF(badge.right() + 3, badge.top(), badge.height(), badge.height())
        _paint_badge(painter, warn, "!", WARNING, QColor(Qt.GlobalColor.black))


def _badge(painter: QPainter, box: QRectF, text: str, fill: QColor, ink: QColor) -> QRectF:
    """A number badge at the box's top-left corner: above the box, or inside if no room."""
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(11)
    painter.setFont(font)
    height = 18.0
    width = max(height, painter.fontMetrics().horizontalAdvance(text) + 10.0)
    top = box.top() - height - 3 if box.top() - height - 3 >= 0 else box.top() + 3
    left = box.left() if top < box.top() else box.left() + 3
    badge = QRectF(left, top, width, height)
    _paint_badge(painter, badge, text, fill, ink)
    return badge


def _paint_badge(painter: QPainter, badge: QRectF, text: str, fill: QColor, ink: QColor) -> None:
    painter.setPen(_pen(HALO, 1.5))
    painter.setBrush(fill)
    painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
    painter.setPen(ink)
    painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)


def _paint_divider(painter: QPainter, x: float, shown: QRectF) -> None:
    if shown.isEmpty() or not shown.left() - 1 <= x <= shown.right() + 1:
        return
    line = QPainterPath(QPointF(x, shown.top()))
    line.lineTo(QPointF(x, shown.bottom()))
    _stroke(painter, line, QColor(Qt.GlobalColor.white), Qt.PenStyle.SolidLine)
    centre = QPointF(x, shown.center().y())
    painter.setPen(_pen(HALO, 1.5))
    painter.setBrush(QColor(Qt.GlobalColor.white))
    painter.drawEllipse(centre, 13.0, 13.0)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0x40, 0x40, 0x40))
    for side in (-1, 1):  # a small arrow head pointing each way
        tip = centre + QPointF(8.0 * side, 0)
        back = centre + QPointF(3.0 * side, 0)
        painter.drawPolygon(QPolygonF([tip, back + QPointF(0, -4.5), back + QPointF(0, 4.5)]))


def _paint_labels(painter: QPainter, x: float, shown: QRectF) -> None:
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(12)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    for text, at_left in (("Before", True), ("After", False)):
        width, height = metrics.horizontalAdvance(text) + 16.0, 22.0
        left = shown.left() + 8 if at_left else shown.right() - 8 - width
        label = QRectF(left, shown.top() + 8, width, height)
        clear_of_divider = label.right() + 6 < x if at_left else label.left() - 6 > x
        if clear_of_divider and shown.contains(label):
            _paint_badge(painter, label, text, LABEL_FILL, QColor(Qt.GlobalColor.white))


def _paint_rubber(painter: QPainter, box: QRectF, accent: QColor) -> None:
    if box.isEmpty():
        return
    fill = QColor(accent)
    fill.setAlpha(50)
    painter.fillRect(box, fill)
    path = QPainterPath()
    path.addRect(box)
    _stroke(painter, path, accent, Qt.PenStyle.DashLine)
