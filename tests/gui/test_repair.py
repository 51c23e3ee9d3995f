"""Repairing damage in the window: the mask painted with the mouse or found in the photo,
eraser and undo, and the restore that fills it in (OpenCV's quick fix: no download)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import photo_path
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from synthetic_damage import draw_damage, recall, visible_damage

from faceapp.gui import damage_mask
from faceapp.gui.damage_mask import DamageMask
from faceapp.gui.main_window import MainWindow
from faceapp.gui.state import PhotoDoc, Status

JOB_TIMEOUT_MS = 240_000
FIND_TIMEOUT_MS = 60_000  # a 600-px photo: well under a second
SCRATCH_Y = 0.82  # of the height: well below the face
BRUSH = 9  # photo pixels

pytestmark = pytest.mark.shared


def wait_ready(qtbot, window: MainWindow) -> PhotoDoc:
    qtbot.waitUntil(
        lambda: window.documents.current is not None
        and window.documents.current.status is Status.READY,
        timeout=JOB_TIMEOUT_MS,
    )
    return window.documents.current


def restore(qtbot, window: MainWindow) -> np.ndarray:
    with qtbot.waitSignal(window.documents.previewChanged, timeout=JOB_TIMEOUT_MS):
        window.restore_action.trigger()
    return window.documents.render_preview(window.documents.current).copy()


def load_rgb(*parts: str, side: int = 360) -> np.ndarray:
    image = Image.open(photo_path(*parts)).convert("RGB")
    image.thumbnail((side, side))
    return np.asarray(image).copy()


def save(tmp_path: Path, rgb: np.ndarray, name: str) -> Path:
    target = tmp_path / name
    Image.fromarray(rgb).save(target)
    return target


def scratched(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray, int]:
    """A portrait with one bright 3-px scratch across its lower part: (file, clean, damaged, y)."""
    clean = load_rgb("misc_faces", "deepface__img1.jpg")
    y = round(clean.shape[0] * SCRATCH_Y)
    damaged = clean.copy()
    cv2.line(damaged, (20, y), (clean.shape[1] - 20, y), (250, 250, 250), 3)
    return save(tmp_path, damaged, "scratched.png"), clean, damaged, y


def stroke(qtbot, window: MainWindow, points: list[tuple[float, float]]) -> None:
    """A mouse drag through photo points on the canvas."""
    canvas = window.canvas
    viewport = canvas.viewport()

    def view(point: tuple[float, float]) -> QPoint:
        return canvas.viewportTransform().map(QPointF(*point)).toPoint()

    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=view(points[0]))
    for point in points[1:]:
        qtbot.mouseMove(viewport, view(point))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=view(points[-1]))


def along(x0: float, x1: float, y: float, steps: int = 12) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * i / steps, y) for i in range(steps + 1)]


def start(qtbot, window: MainWindow, path: Path) -> PhotoDoc:
    window.controls.set("model_id", "gpen-bfr-256")
    window.open_paths([path])
    doc = wait_ready(qtbot, window)
    doc.set_included(set())  # the faces are not the point here: only the repair runs
    return doc


# --- the mask on its own --------------------------------------------------------------------


def test_strokes_erase_and_undo_keep_only_the_changed_rectangles():
    doc = PhotoDoc(None, "scan")
    mask = DamageMask(doc, (4000, 3000))
    mask.paint((100, 100), (300, 100), 10)
    mask.paint((300, 100), (300, 200), 10)
    mask.end_stroke()
    painted = doc.damage_mask.copy()
    assert painted[100, 200] == 255 and painted[150, 300] == 255 and painted[150, 200] == 0
    assert painted[100, 94] == 0 and painted[100, 305] == 255  # round ends, 10 px wide
    assert mask._undo[0].before.nbytes < 40_000  # the stroke's rectangle, not the scan
    version = doc.damage_version
    mask.paint((200, 90), (200, 110), 30, erase=True)
    mask.end_stroke()
    assert doc.damage_mask[100, 200] == 0 and doc.damage_mask[100, 150] == 255
    assert mask.undo() and np.array_equal(doc.damage_mask, painted)
    assert doc.damage_version == version  # the same mask as before: the same version
    assert mask.undo() and not doc.damage_mask.any() and doc.damage_version == 0
    assert not mask.undo()


def test_a_proposal_and_a_clear_are_one_step_each_and_the_stack_is_bounded(monkeypatch):
    doc = PhotoDoc(None, "scan")
    mask = DamageMask(doc, (300, 200))
    proposal = np.zeros((200, 300), np.uint8)
    proposal[50:60, 20:280] = 255
    mask.add(proposal)
    assert np.array_equal(doc.damage_mask, proposal)
    mask.clear()
    assert not mask.has_damage()
    assert mask.undo() and np.array_equal(doc.damage_mask, proposal)
    assert mask.undo() and not mask.has_damage()
    monkeypatch.setattr(damage_mask, "UNDO_STEPS", 3)
    for x in range(10):
        mask.paint((10 * x, 10), (10 * x, 20), 3)
        mask.end_stroke()
    assert len(mask._undo) == 3


# --- through the window ---------------------------------------------------------------------


def test_a_painted_scratch_is_repaired_and_the_rest_left_alone(qtbot, window, tmp_path, gpen):
    path, clean, damaged, y = scratched(tmp_path)
    doc = start(qtbot, window, path)
    panel = window.repair_panel
    assert not panel.repair.isEnabled()  # nothing marked yet
    panel.size.setValue(BRUSH)
    panel.brush_action.trigger()
    assert window.canvas.damage.tool == "brush" and panel.show_action.isChecked()
    width = clean.shape[1]
    stroke(qtbot, window, along(10, width - 10, y))
    mask = doc.damage_mask
    assert mask is not None and (mask[y, 20 : width - 20] == 255).all()
    assert panel.repair.isEnabled() and panel.repair.isChecked()
    assert window.canvas.damage.overlay.isVisible()

    after = restore(qtbot, window)
    scratch = np.zeros(mask.shape, bool)
    scratch[y - 1 : y + 2, 20 : width - 20] = True
    error_before = np.abs(damaged[scratch].astype(int) - clean[scratch]).mean()
    error_after = np.abs(after[scratch].astype(int) - clean[scratch]).mean()
    assert error_after < error_before / 3, (error_before, error_after)
    assert np.array_equal(after[mask == 0], damaged[mask == 0])  # nothing else touched
    with qtbot.waitSignal(window.documents.saved, timeout=JOB_TIMEOUT_MS) as saved:
        window.save_action.trigger()
    written = np.asarray(Image.open(saved.args[1]).convert("RGB"))
    assert np.abs(written.astype(int) - after).max() <= 1  # the preview's own rounding

    # a new mark only makes the result stale: nothing runs until Restore
    calls, submit = [], window.inference.submit
    window.inference.submit = lambda kind, *a, **k: calls.append(kind)
    stroke(qtbot, window, [(30, 30), (60, 40)])
    window.inference.submit = submit
    assert calls == [] and window.documents.stale(doc)
    assert window.restore_button.text() == "Restore again"


def test_eraser_and_undo_give_the_mask_back(qtbot, window, tmp_path, gpen):
    path, clean, _damaged, y = scratched(tmp_path)
    doc = start(qtbot, window, path)
    panel = window.repair_panel
    panel.size.setValue(BRUSH)
    panel.brush_action.trigger()
    width = clean.shape[1]
    stroke(qtbot, window, along(10, width - 10, y))
    painted = doc.damage_mask.copy()
    recipe = window.documents.recipe_for(doc)
    panel.eraser_action.trigger()
    assert not panel.brush_action.isChecked()
    stroke(qtbot, window, [(width / 2, y - 30), (width / 2, y + 30)])
    assert doc.damage_mask[y, round(width / 2)] == 0 and doc.damage_mask[y, 40] == 255
    assert window.documents.recipe_for(doc) != recipe  # the network must run again
    window.activateWindow()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.damage_mask, painted)
    assert window.documents.recipe_for(doc) == recipe  # undone: the same mask again
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.canvas.damage.tool == "" and not panel.eraser_action.isChecked()
    panel.clear_button.click()
    assert not doc.damage_mask.any() and not panel.repair.isEnabled()
    assert window.documents.recipe_for(doc).repair is None


def test_find_scratches_proposes_the_damage_and_it_is_repaired(qtbot, window, tmp_path, gpen):
    clean = load_rgb("group_photos", "dlib__dogs.jpg", side=600)  # no face to leave out
    damaged, drawn = draw_damage(clean, seed=1, lines=5, specks=15)
    doc = start(qtbot, window, save(tmp_path, damaged, "dogs.png"))
    with qtbot.waitSignal(window.repair_tools.found, timeout=FIND_TIMEOUT_MS):
        window.repair_panel.find_action.trigger()
    visible = visible_damage(clean, damaged, drawn)
    assert recall(doc.damage_mask, visible) >= 0.6  # the core measures it closely (0.77 here)
    assert window.repair_panel.show_action.isChecked()  # the proposal is shown to review
    found = doc.damage_mask.copy()
    window.repair_panel.undo_action.trigger()  # the whole proposal is one step
    assert not doc.damage_mask.any()
    with qtbot.waitSignal(window.repair_tools.found, timeout=FIND_TIMEOUT_MS):
        window.repair_panel.find_action.trigger()
    assert np.array_equal(doc.damage_mask, found)

    after = restore(qtbot, window)
    fixed = visible & (found > 0)
    error_before = np.abs(damaged[fixed].astype(int) - clean[fixed]).mean()
    error_after = np.abs(after[fixed].astype(int) - clean[fixed]).mean()
    assert error_after < error_before / 2, (error_before, error_after)
    assert np.array_equal(after[found == 0], damaged[found == 0])


def test_the_method_list_offers_lama_only_when_installed(qtbot, window, monkeypatch):
    panel = window.repair_panel
    assert [panel.method.itemData(i) for i in range(panel.method.count())] == ["opencv"]
    from faceapp.core.models import store as model_store

    real = model_store.installed_file
    monkeypatch.setattr(
        model_store,
        "installed_file",
        lambda entry: Path("big-lama.ckpt") if entry.id == "lama-big" else real(entry),
    )
    panel.refresh_models()
    assert panel.method.findData("lama-big") == 1
