"""The photo canvas: QImage conversion, fit/zoom/pan, the before/after divider, face boxes."""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QHelpEvent, QImage, QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolTip  # noqa: E402

from faceapp.gui.photo_canvas import BACKGROUND, FaceMark, PhotoCanvas  # noqa: E402
from faceapp.gui.qimage import (  # noqa: E402
    array_to_qimage,
    qimage_to_array,
)

RED = (200, 30, 30)
BLUE = (30, 30, 200)
GREY = (128, 128, 128)
BG = (BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue())


def flat(width: int, height: int, colour: tuple[int, int, int]) -> QImage:
    return array_to_qimage(np.full((height, width, 3), colour, dtype=np.uint8))


def screen(canvas: PhotoCanvas) -> np.ndarray:
    return qimage_to_array(canvas.viewport().grab().toImage())


def to_view(canvas: PhotoCanvas, x: float, y: float) -> QPointF:
    return canvas.viewportTransform().map(QPointF(x, y))


def to_scene(canvas: PhotoCanvas, pos: QPoint) -> QPointF:
    return canvas.mapToScene(pos)


def drag(qtbot, canvas: PhotoCanvas, start: QPoint, end: QPoint, steps: int = 4) -> None:
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, start + (end - start) * i / steps)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


def wheel(canvas: PhotoCanvas, pos: QPointF, notches: int = 1) -> None:
    global_pos = QPointF(canvas.viewport().mapToGlobal(pos.toPoint()))
    event = QWheelEvent(
        pos,
        global_pos,
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.viewport(), event)


@pytest.fixture
def canvas(qtbot) -> PhotoCanvas:
    view = PhotoCanvas()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


# --- QImage conversion --------------------------------------------------------------------


def test_uint8_round_trip_is_exact() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)  # odd stride
    image = array_to_qimage(pixels)
    assert image.format() == QImage.Format.Format_RGB888
    assert (image.width(), image.height()) == (7, 5)
    np.testing.assert_array_equal(qimage_to_array(image), pixels)


def test_uint16_is_rounded_to_8_bits() -> None:
    pixels8 = np.random.default_rng(2).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        qimage_to_array(array_to_qimage(pixels8.astype(np.uint16) * 257)), pixels8
    )
    edges = np.array([[[0, 128, 129], [385, 386, 65535]]], dtype=np.uint16)
    expected = np.array([[[0, 0, 1], [1, 2, 255]]], dtype=np.uint8)
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(edges)), expected)


@pytest.mark.parametrize("shape", [(4, 6), (4, 6, 1)])
def test_grey_becomes_rgb(shape: tuple[int, ...]) -> None:
    grey = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    back = qimage_to_array(array_to_qimage(grey))
    np.testing.assert_array_equal(back, np.repeat(grey.reshape(4, 6, 1), 3, axis=2))


def test_qimage_owns_its_pixels() -> None:
    pixels = np.full((3, 3, 3), 10, dtype=np.uint8)
    image = array_to_qimage(pixels)
    pixels[:] = 99
    del pixels
    assert qimage_to_array(image)[1, 1].tolist() == [10, 10, 10]


def test_other_images_convert_to_rgb() -> None:
    image = QImage(3, 2, QImage.Format.Format_ARGB32)
    image.fill(0xFF102030)
    assert qimage_to_array(image).tolist() == [[[16, 32, 48]] * 3] * 2
    assert qimage_to_array(QImage()).shape == (0, 0, 3)


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((2, 2, 4), np.uint8), np.zeros((2, 2, 3), np.float32), np.zeros(3, np.uint8)],
)
def test_unsupported_arrays_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError):
        array_to_qimage(pixels)


# --- zoom and pan -------------------------------------------------------------------------


def test_fit_shows_the_whole_photo(canvas: PhotoCanvas) -> None:
    canvas.set_before(flat(800, 200, RED))
    shown = canvas.viewportTransform().mapRect(QRectF(0, 0, 800, 200))
    view = QRectF(canvas.viewport().rect())
    assert shown.left() >= -0.5 and shown.top() >= -0.5
    assert shown.right() <= view.right() + 1.5 and shown.bottom() <= view.bottom() + 1.5
    assert shown.width() == pytest.approx(view.width(), abs=1)  # fills the limiting side
    assert canvas.zoom() == pytest.approx(400 / 800)


def test_zoom_actual_is_one_photo_pixel_per_screen_pixel(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    with qtbot.waitSignal(canvas.zoomChanged) as signal:
        canvas.zoom_actual()
    assert canvas.zoom() == pytest.approx(1.0)
    assert signal.args == [pytest.approx(1.0)]
    step = to_view(canvas, 110, 50) - to_view(canvas, 10, 50)
    assert step.x() == pytest.approx(100)


def test_zoom_in_and_out_stop_at_the_fitted_size(canvas: PhotoCanvas) -> None:
    canvas.set_before(flat(800, 600, RED))
    fit = canvas.zoom()
    canvas.zoom_in()
    assert canvas.zoom() == pytest.approx(fit * 1.25)
    canvas.zoom_out()
    canvas.zoom_out()
    assert canvas.zoom() == pytest.approx(fit)


def test_fitted_photo_follows_resizes_until_the_user_zooms(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.resize(200, 150)
    qtbot.waitUntil(lambda: canvas.zoom() == pytest.approx(0.25))
    canvas.zoom_in()
    zoomed = canvas.zoom()
    canvas.resize(400, 300)
    qtbot.wait(20)
    assert canvas.zoom() == pytest.approx(zoomed)


@pytest.mark.parametrize("start_zoomed_in", [False, True])
def test_wheel_zooms_around_the_cursor(canvas: PhotoCanvas, start_zoomed_in: bool) -> None:
    canvas.set_before(flat(800, 600, RED))  # same shape as the 400 x 300 canvas
    if start_zoomed_in:
        canvas.zoom_actual()
    cursor = QPointF(97.0, 81.0)
    under = canvas.viewportTransform().inverted()[0].map(cursor)
    before = canvas.zoom()
    wheel(canvas, cursor)
    assert canvas.zoom() == pytest.approx(before * 1.25)
    after = to_view(canvas, under.x(), under.y())
    assert abs(after.x() - cursor.x()) <= 1 and abs(after.y() - cursor.y()) <= 1


def test_dragging_the_photo_pans(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.zoom_actual()
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    drag(qtbot, canvas, QPoint(200, 150), QPoint(150, 120))
    moved = canvas.mapToScene(canvas.viewport().rect().center()) - centre
    assert (moved.x(), moved.y()) == (pytest.approx(50, abs=1), pytest.approx(30, abs=1))


# --- before / after ------------------------------------------------------------------------


def test_larger_after_image_lines_up_with_before(canvas: PhotoCanvas) -> None:
    canvas.resize(500, 200)
    canvas.set_before(flat(200, 100, RED))
    canvas.set_after(flat(800, 400, BLUE))  # a x4 background upscale
    assert canvas.zoom() == pytest.approx(2.0)  # the photo spans x = 50..450 on screen
    pixels = screen(canvas)
    assert pixels[100, 120].tolist() == list(RED)
    assert pixels[100, 380].tolist() == list(BLUE)
    assert pixels[150, 446].tolist() == list(BLUE)
    assert pixels[150, 454].tolist() == list(BG)  # after stretched to before, not beyond it
    canvas.set_divider(0.25)
    assert screen(canvas)[100, 200].tolist() == list(BLUE)
    canvas.set_after(None)
    assert screen(canvas)[100, 380].tolist() == list(RED)


def test_dragging_the_divider_moves_it(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.set_after(flat(1600, 1200, BLUE))
    assert canvas.divider() == 0.5
    line = to_view(canvas, 400, 300).toPoint()
    qtbot.mouseMove(canvas.viewport(), line + QPoint(2, 0))
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.SizeHorCursor
    moves: list[float] = []
    canvas.dividerMoved.connect(moves.append)
    drag(qtbot, canvas, line + QPoint(2, 0), line + QPoint(52, 10))
    expected = 0.5 + 50 / canvas.zoom() / 800
    assert canvas.divider() == pytest.approx(expected, abs=0.002)
    assert len(moves) == 4 and moves[-1] == canvas.divider()


def test_divider_is_clamped_and_not_draggable_without_after(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.set_divider(1.7)
    assert canvas.divider() == 1.0
    canvas.set_divider(0.5)
    line = to_view(canvas, 400, 300).toPoint()
    with qtbot.assertNotEmitted(canvas.dividerMoved):
        drag(qtbot, canvas, line, line + QPoint(50, 0))
    assert canvas.divider() == 0.5


# --- faces -----------------------------------------------------------------------------------

FACES = [
    FaceMark(1, (100, 100, 250, 260), included=True, too_small=False, manual=False),
    FaceMark(2, (500, 150, 540, 190), included=False, too_small=True, manual=True),
]


def test_clicking_a_face_box_reports_its_number(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.set_faces(FACES)
    inside_two = to_view(canvas, 520, 170).toPoint()
    with qtbot.waitSignal(canvas.faceClicked) as signal:
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=inside_two)
    assert signal.args == [2]
    outside = to_view(canvas, 700, 500).toPoint()
    with qtbot.assertNotEmitted(canvas.faceClicked):
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=outside)
        drag(qtbot, canvas, inside_two, inside_two + QPoint(30, 30))  # a pan, not a click


def test_small_face_has_a_tooltip(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.set_faces(FACES)
    pos = to_view(canvas, 520, 170).toPoint()
    qtbot.mouseMove(canvas.viewport(), pos)
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.PointingHandCursor
    global_pos = canvas.viewport().mapToGlobal(pos)
    QApplication.sendEvent(canvas.viewport(), QHelpEvent(QEvent.Type.ToolTip, pos, global_pos))
    assert "small" in QToolTip.text()


def test_hiding_faces_removes_the_boxes(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(400, 300, GREY))  # zoom 1: photo pixel = screen pixel
    canvas.set_faces(FACES[:1])
    edge = (100, 180)  # row, column on the top edge of box 1
    assert screen(canvas)[edge].tolist() != list(GREY)
    canvas.set_faces_visible(False)
    assert not canvas.faces_visible()
    assert (screen(canvas) == GREY).all()
    with qtbot.assertNotEmitted(canvas.faceClicked):  # hidden boxes are not clickable either
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(180, 180))


def test_new_photo_clears_after_and_faces(canvas: PhotoCanvas) -> None:
    canvas.set_before(flat(400, 300, GREY))
    canvas.set_after(flat(400, 300, BLUE))
    canvas.set_faces(FACES)
    canvas.set_before(flat(400, 300, RED))
    assert (screen(canvas) == RED).all()


# --- add-face mode ---------------------------------------------------------------------------


def test_drawing_a_face_box(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    with qtbot.waitSignal(canvas.addFaceModeChanged) as entered:
        canvas.set_add_face_mode(True)
    assert entered.args == [True]
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    start, end = QPoint(60, 50), QPoint(170, 140)
    with (
        qtbot.waitSignal(canvas.faceBoxDrawn) as drawn,
        qtbot.waitSignal(canvas.addFaceModeChanged) as left,
    ):
        drag(qtbot, canvas, start, end)
    a, b = to_scene(canvas, start), to_scene(canvas, end)
    assert drawn.args[0] == pytest.approx((a.x(), a.y(), b.x(), b.y()), abs=2)
    assert left.args == [False]
    assert not canvas.add_face_mode()


def test_drawn_box_is_clipped_and_tiny_boxes_are_ignored(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.set_add_face_mode(True)
    with qtbot.assertNotEmitted(canvas.faceBoxDrawn):
        drag(qtbot, canvas, QPoint(100, 100), QPoint(102, 102))  # 4 x 4 photo pixels
    assert canvas.add_face_mode()
    with qtbot.waitSignal(canvas.faceBoxDrawn) as drawn:
        drag(qtbot, canvas, QPoint(350, 250), QPoint(399, 299))
    x1, y1, x2, y2 = drawn.args[0]
    assert (x2, y2) == (pytest.approx(800, abs=2), pytest.approx(600, abs=2))
    assert x2 <= 800 and y2 <= 600 and x1 == pytest.approx(700, abs=2)


def test_escape_leaves_add_face_mode(canvas: PhotoCanvas, qtbot) -> None:
    canvas.set_before(flat(800, 600, RED))
    canvas.set_add_face_mode(True)
    with qtbot.waitSignal(canvas.addFaceModeChanged) as left:
        qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert left.args == [False]
    assert canvas.viewport().cursor().shape() != Qt.CursorShape.CrossCursor


def test_add_face_mode_needs_a_photo(canvas: PhotoCanvas, qtbot) -> None:
    with qtbot.assertNotEmitted(canvas.addFaceModeChanged):
        canvas.set_add_face_mode(True)
    assert not canvas.add_face_mode()


# --- empty state and speed -------------------------------------------------------------------


def test_empty_canvas_shows_the_hint(canvas: PhotoCanvas) -> None:
    assert (screen(canvas) == BG).all()
    canvas.set_placeholder("Drop photos here or click Open…")
    middle = screen(canvas)[130:170, 100:300]
    assert (middle != BG).any(axis=2).sum() > 50
    canvas.set_before(flat(400, 300, GREY))
    canvas.clear()
    assert (screen(canvas)[130:170, 100:300] != BG).any()
    wheel(canvas, QPointF(100, 100))  # nothing to zoom: must not fail


def test_large_after_image_is_quick(canvas: PhotoCanvas) -> None:
    canvas.set_before(flat(2000, 1500, RED))
    big = array_to_qimage(np.random.default_rng(4).integers(0, 256, (3000, 4000, 3), np.uint8))
    started = time.perf_counter()
    canvas.set_after(big)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # typically ~0.03 s; loose so a busy machine does not fail it
    assert screen(canvas)[150, 300].tolist() != list(RED)


class _Levels:
    """A LevelSource over a full-size array, shrunk per level; records the levels asked for."""

    def __init__(self, pixels: np.ndarray, region: tuple[int, int, int, int]) -> None:
        self.pixels, self.region, self.asked = pixels, region, []

    def image(self, level: int) -> QImage:
        self.asked.append(level)
        height, width = self.pixels.shape[:2]
        size = (width >> level, height >> level)
        return array_to_qimage(cv2.resize(self.pixels, size, interpolation=cv2.INTER_AREA))

    def changed(self, level: int) -> list[QRect]:
        x0, y0, x1, y1 = (v >> level for v in self.region)
        return [QRect(x0, y0, x1 - x0, y1 - y0)]


@pytest.mark.parametrize("zoomed", ["fit", "actual"])
def test_updated_regions_show_at_any_zoom(canvas: PhotoCanvas, zoomed: str) -> None:
    """A strength change redraws only the faces' regions, at the level being shown."""
    canvas.set_before(flat(1600, 1200, RED))
    canvas.set_after(flat(1600, 1200, BLUE))
    canvas.set_divider(0.0)
    screen(canvas)  # builds the reduced level while fitted
    changed = np.full((1200, 1600, 3), BLUE, np.uint8)
    changed[400:800, 600:1000] = GREY
    source = _Levels(changed, (600, 400, 1000, 800))
    canvas.update_after(source)
    assert source.asked == []  # nothing is drawn before a paint needs it
    if zoomed == "actual":
        canvas.zoom_actual()
        canvas.centerOn(800, 600)
    centre = to_view(canvas, 800, 600).toPoint()
    corner = to_view(canvas, 100, 100).toPoint()
    pixels = screen(canvas)
    assert np.abs(pixels[centre.y(), centre.x()].astype(int) - GREY).max() <= 2
    if zoomed == "fit":
        assert pixels[corner.y(), corner.x()].tolist() == list(BLUE)
        assert source.asked and 0 not in source.asked  # fitted: the full size is not blended
    else:
        assert source.asked == [0]
