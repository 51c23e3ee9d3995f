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
        lambda: (
            window.documents.current is not None and window.documents.current.status is Status.READY
        ),
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


def pretend_installed(monkeypatch, *ids: str) -> None:
    """These catalog models count as installed (no file is read: only the lists change)."""
    from faceapp.core.models import store as model_store

    real = model_store.installed_file
    monkeypatch.setattr(
        model_store,
        "installed_file",
        lambda entry: Path(entry.file_name) if entry.id in ids else real(entry),
    )


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
    assert panel.redo_action.isEnabled()
    panel.redo_action.trigger()
    assert doc.damage_mask[y, round(width / 2)] == 0  # redone: the erased gap is back
    assert window.documents.recipe_for(doc) != recipe
    panel.undo_action.trigger()
    assert np.array_equal(doc.damage_mask, painted) and panel.redo_action.isEnabled()
    panel.brush_action.trigger()
    stroke(qtbot, window, [(20, y - 20), (40, y - 20)])  # a new edit: nothing left to redo
    assert not panel.redo_action.isEnabled()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.canvas.damage.tool == "" and not panel.brush_action.isChecked()
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
    pretend_installed(monkeypatch, "lama-big")
    panel.refresh_models()
    assert panel.method.findData("lama-big") == 1


def test_the_middle_button_pans_while_painting(qtbot, window, tmp_path, gpen):
    path, _clean, _damaged, _y = scratched(tmp_path)
    doc = start(qtbot, window, path)
    canvas = window.canvas
    window.repair_panel.brush_action.trigger()
    for _ in range(8):  # far enough in that the photo is larger than the canvas
        canvas.zoom_in()
    before = canvas.mapToScene(canvas.viewport().rect().center())
    centre = canvas.viewport().rect().center()
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=centre)
    qtbot.mouseMove(viewport, centre + QPoint(40, 0))
    qtbot.mouseMove(viewport, centre + QPoint(80, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=centre + QPoint(80, 0))
    after = canvas.mapToScene(canvas.viewport().rect().center())
    moved = (before.x() - after.x()) * canvas.transform().m11()  # viewport pixels
    assert abs(moved - 80) <= 2, moved  # as a left drag moves it without a tool
    assert doc.damage_mask is None or not doc.damage_mask.any()  # and painted nothing


def test_the_overlay_shows_a_thin_mark_zoomed_out_and_only_where_it_is(qtbot):
    """A 1-px scratch on a big scan stays visible at "Fit" (the overlay's reduced levels
    keep the maximum of the pixels they stand for); the rest of the photo is not tinted."""
    from faceapp.gui.photo_canvas import PhotoCanvas
    from faceapp.gui.qimage import array_to_qimage, qimage_to_array

    canvas = PhotoCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    canvas.show()
    canvas.set_before(array_to_qimage(np.full((2000, 3000, 3), 128, np.uint8)))
    mask = DamageMask(PhotoDoc(None, "scan"), (3000, 2000))
    canvas.damage.set_mask(mask)
    canvas.damage.set_shown(True)
    mask.paint((300, 1000), (2700, 1000), 1)
    mask.end_stroke()
    canvas.zoom_fit()
    shot = qimage_to_array(canvas.viewport().grab().toImage()).astype(int)
    row = round(canvas.viewportTransform().map(QPointF(1500, 1000)).y())
    band = shot[row - 1 : row + 2, 100:500]
    reddish = (band[..., 0] - band[..., 1] > 40).any(axis=0)
    assert reddish.mean() > 0.95
    far = shot[row + 40 : row + 60, 100:500]
    assert np.abs(far - 128).max() <= 1
    mask.undo()
    shot = qimage_to_array(canvas.viewport().grab().toImage()).astype(int)
    assert np.abs(shot[row - 1 : row + 2, 100:500] - 128).max() <= 1  # redrawn when undone


def test_core_options_carry_a_copy_of_the_mask_and_the_method(tmp_path, monkeypatch):
    from faceapp.core.errors import ModelNotInstalledError
    from faceapp.core.models import store as model_store
    from faceapp.gui import photo_jobs
    from faceapp.gui.state import Controls

    controls = Controls("gpen-bfr-256", 1.0, 0.5, 1, "lanczos")
    damage = np.zeros((10, 20), np.uint8)
    damage[5, 3:9] = 255
    recipe = controls.recipe([], (), False, damage_version=7)
    assert recipe.repair == ("opencv", 7)
    assert controls.recipe([], (), False, damage_version=None).repair is None
    controls.set("repair", False)
    assert controls.recipe([], (), False, damage_version=7).repair is None
    controls.set("repair", True)
    controls.set("repair_method", "lama-big")
    lama_recipe = controls.recipe([], (), False, 7)
    installed = {"gpen-bfr-256": tmp_path / "gpen.pth"}

    def require(model_id: str):
        if model_id not in installed:
            raise ModelNotInstalledError(f"{model_id} is not installed")
        return installed[model_id]

    monkeypatch.setattr(model_store, "require_model", require)
    options = photo_jobs.options_for(recipe, 1.0, damage=damage)
    assert options.repair == "mask" and options.repair_model is None
    assert np.array_equal(options.repair_mask, damage)
    assert options.repair_mask is not damage  # the window may paint on meanwhile
    with pytest.raises(ModelNotInstalledError):  # LaMa chosen, then removed: said plainly
        photo_jobs.options_for(lama_recipe, 1.0, damage=damage)
    installed["lama-big"] = tmp_path / "big-lama.ckpt"
    lama = photo_jobs.options_for(lama_recipe, 1.0, damage=damage)
    assert lama.repair == "mask" and lama.repair_model == tmp_path / "big-lama.ckpt"


def test_the_repair_choice_is_remembered(qtbot, monkeypatch):
    from dataclasses import asdict

    from faceapp.settings import Settings, settings_from_dict

    pretend_installed(monkeypatch, "lama-big", "gpen-inpainting-1024")
    first = MainWindow(Settings())
    qtbot.addWidget(first)
    panel = first.repair_panel
    panel.method.setCurrentIndex(panel.method.findData("lama-big"))
    panel.method.activated.emit(panel.method.currentIndex())
    panel.repair.setChecked(False)
    panel.complete_faces.setChecked(True)
    first.remember()
    saved = first.settings
    first.shutdown()
    assert (saved.repair, saved.repair_method, saved.complete_faces) == (False, "lama-big", True)
    again = MainWindow(settings_from_dict(asdict(saved)))  # through the file's checks
    qtbot.addWidget(again)
    assert again.repair_panel.method.currentData() == "lama-big"
    assert not again.controls.repair and not again.repair_panel.repair.isChecked()
    assert again.controls.complete_faces and again.repair_panel.complete_faces.isChecked()
    again.shutdown()


def test_find_scratches_can_be_cancelled_and_changes_nothing(qtbot, window, tmp_path, gpen):
    import threading

    path, _clean, _damaged, _y = scratched(tmp_path)
    doc = start(qtbot, window, path)
    panel = window.repair_panel
    hold = threading.Event()
    window.inference.submit("hold", lambda *_: hold.wait(30))  # the search waits behind it
    panel.find_action.trigger()
    assert panel.find_cancel.isVisibleTo(window) and not panel.find_action.isEnabled()
    with qtbot.waitSignal(window.repair_tools.finding, timeout=FIND_TIMEOUT_MS) as ended:
        panel.find_cancel.click()
        hold.set()
    assert ended.args == [None]
    assert doc.damage_mask is None or not doc.damage_mask.any()
    assert not panel.find_cancel.isVisibleTo(window) and panel.find_action.isEnabled()


def test_a_long_stroke_emits_no_qt_signal_per_dab():
    """PySide6 6.12 on Python 3.11 drops a reference to True at every Python-side emit(): a
    signal per dab would bring the interpreter down after some hundred strokes."""
    import sys

    doc = PhotoDoc(None, "scan")
    mask = DamageMask(doc, (600, 400))
    seen = []
    mask.watch(seen.append)
    before = sys.getrefcount(True)
    for x in range(500):
        mask.paint((x, 10), (x + 1, 12), 3)
    assert before - sys.getrefcount(True) < 5
    assert len(seen) == 500  # the overlay still hears of every dab
    mask.end_stroke()


def test_a_mask_set_elsewhere_at_another_scale_is_brought_to_the_photos_size():
    doc = PhotoDoc(None, "scan")
    small = np.zeros((50, 75), bool)
    small[10, 5:70] = True
    doc.damage_mask = small  # e.g. a mask file painted on a smaller copy
    mask = DamageMask(doc, (300, 200))
    assert mask.has_damage()
    mask.paint((0, 0), (0, 0), 1)
    assert doc.damage_mask.shape == (200, 300) and doc.damage_mask.dtype == np.uint8
    assert doc.damage_mask[41, 150] == 255 and doc.damage_mask[100, 150] == 0


@pytest.mark.slow  # about 20 s on two busy cores: 200 MB of weights made, hashed and run
def test_repair_with_an_installed_lama_model(qtbot, window, tmp_path, gpen):
    """Golden (pseudo-random) LaMa weights saved like the released checkpoint and imported:
    offered as a method, and the restore fills the marks with it, not with the quick fix."""
    import torch
    from conftest import load_golden

    from faceapp.core.models import catalog
    from faceapp.core.models import store as model_store

    sd, _ = load_golden("lama_big")
    checkpoint = tmp_path / "big-lama.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in sd.items()}, "epoch": 1}, checkpoint)
    del sd
    entry, _installed = model_store.import_model(checkpoint)  # not the released file: own id
    assert entry.purpose == catalog.INPAINT
    window.model_tasks.modelsChanged.emit()
    panel = window.repair_panel
    assert panel.method.findData(entry.id) >= 1

    path, clean, _damaged, y = scratched(tmp_path)
    doc = start(qtbot, window, path)
    panel.size.setValue(BRUSH)
    panel.brush_action.trigger()
    stroke(qtbot, window, along(10, clean.shape[1] - 10, y))
    quick = restore(qtbot, window)
    panel.method.setCurrentIndex(panel.method.findData(entry.id))
    panel.method.activated.emit(panel.method.currentIndex())
    assert window.documents.stale(doc)  # another method: the repair runs again
    lama = restore(qtbot, window)
    marked = doc.damage_mask > 0
    assert np.array_equal(lama[~marked], quick[~marked])
    assert np.abs(lama[marked].astype(int) - quick[marked]).mean() > 5


def test_compare_tries_a_face_on_the_repaired_pixels(qtbot, window, tmp_path, gpen):
    """A scratch painted across a face is repaired before Compare runs the models, as the
    whole restoration would; with repair switched off the face is tried as it is."""
    from faceapp.core.compare import original_crop

    clean = load_rgb("misc_faces", "deepface__img1.jpg")
    x0, y0, x1, y1 = (
        int(v) for v in start(qtbot, window, save(tmp_path, clean, "a.png")).faces[0].box
    )
    y = (y0 + y1) // 2
    damaged = clean.copy()
    cv2.line(damaged, (x0, y), (x1, y), (250, 250, 250), 3)
    window.open_paths([save(tmp_path, damaged, "scratched.png")])
    doc = window.documents.docs[-1]
    window.documents.set_current(doc)
    assert wait_ready(qtbot, window) is doc
    face = doc.faces[0]
    panel = window.repair_panel
    panel.size.setValue(BRUSH)
    panel.brush_action.trigger()
    stroke(qtbot, window, along(x0, x1, y))
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)

    def tried_crop() -> np.ndarray:
        with qtbot.waitSignal(window.face_tools.compared, timeout=JOB_TIMEOUT_MS) as done:
            window.face_tools.compare(doc, face.index, [("gpen-bfr-256", gpen)])
        return done.args[2][0].restored.crop

    repaired = tried_crop()
    panel.repair.setChecked(False)
    as_it_is = tried_crop()
    reference = original_crop(clean.astype(np.float32) / 255, face, repaired.shape[0])
    error_repaired = np.abs(repaired - reference).mean()
    error_as_it_is = np.abs(as_it_is - reference).mean()
    assert error_repaired < 0.5 * error_as_it_is, (error_repaired, error_as_it_is)
