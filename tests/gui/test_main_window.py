"""The real main window, driven like a user would: open, faces, restore, compare, save."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from faceapp.core import paths
from faceapp.core.faces.detection import FaceDetector
from faceapp.core.models import store as model_store
from faceapp.core.photo.reading import read_photo
from faceapp.gui.first_run import FirstRunDialog
from faceapp.gui.main_window import MainWindow
from faceapp.gui.state import Status
from faceapp.settings import Settings, load_settings

JOB_TIMEOUT_MS = 240_000

pytestmark = pytest.mark.shared


def drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def wait_ready(qtbot, window: MainWindow, count: int) -> None:
    def all_settled() -> None:
        docs = window.documents.docs
        assert len(docs) == count
        assert all(d.status in (Status.READY, Status.FAILED) for d in docs)

    qtbot.waitUntil(all_settled, timeout=JOB_TIMEOUT_MS)


def copy_photo(tmp_path: Path, *parts: str) -> Path:
    target = tmp_path / parts[-1]
    shutil.copyfile(photo_path(*parts), target)
    return target


def test_dropped_photos_show_the_cores_face_count(qtbot, window, tmp_path):
    couple = copy_photo(tmp_path, "group_photos", "deepface__couple.jpg")
    dogs = copy_photo(tmp_path, "group_photos", "dlib__dogs.jpg")
    drop(window, [couple, dogs])
    wait_ready(qtbot, window, 2)
    detector = FaceDetector()
    for doc, path in zip(window.documents.docs, (couple, dogs), strict=True):
        expected = len(detector.detect(read_photo(path).pixels))
        assert len(doc.faces) == expected
        assert window.photos.item(window.documents.docs.index(doc)).text().endswith(doc.status_text)
    assert len(window.documents.docs[0].faces) == 2
    assert window.documents.docs[1].status_text == "No faces found"
    # the sharp face starts unselected (its quality estimate says it needs no restoring)
    couple = window.documents.docs[0]
    sharp = [i for i, q in couple.qualities.items() if not q.needs_restoring]
    assert sorted(couple.excluded) == sharp
    assert f"{2 - len(sharp)} of 2 faces" in window.faces.summary.text()


def test_a_broken_file_is_reported_and_the_others_go_on(qtbot, window, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    good = copy_photo(tmp_path, "misc_faces", "deepface__img1.jpg")
    window.open_paths([broken, good])
    wait_ready(qtbot, window, 2)
    bad_doc, good_doc = window.documents.docs
    assert bad_doc.status is Status.FAILED
    assert "broken.jpg" in window.errors.reports()[0].headline()
    assert good_doc.status is Status.READY and len(good_doc.faces) == 1
    window.documents.set_current(bad_doc)
    window.close_photo_action.trigger()
    assert window.documents.docs == [good_doc] and window.photos.count() == 1
    assert window.documents.current is good_doc


def test_faces_toggle_by_click_and_list_and_add_by_box(qtbot, window, tmp_path):
    window.open_paths([copy_photo(tmp_path, "group_photos", "deepface__couple.jpg")])
    wait_ready(qtbot, window, 1)
    doc = window.documents.current
    window.faces.select_all()
    window.canvas.faceClicked.emit(1)
    assert doc.included_faces() == [doc.faces[1]]
    item = window.faces.list.item(1)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert doc.included_faces() == []
    window.faces.select_all()
    assert len(doc.included_faces()) == 2
    first = doc.faces[0]
    with qtbot.waitSignal(window.documents.faceAdded, timeout=JOB_TIMEOUT_MS) as added:
        window.canvas.faceBoxDrawn.emit(tuple(first.box))
    face = added.args[1]
    assert face is not None and face.manual and face.index == 2
    assert len(doc.faces) == 3 and window.faces.list.count() == 3
    assert np.abs(face.landmarks - first.landmarks).max() < 0.1 * first.width


def restore_current(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.documents.previewChanged, timeout=JOB_TIMEOUT_MS):
        window.restore_action.trigger()


def test_restore_compare_strength_and_save(qtbot, window, tmp_path, gpen):
    source = copy_photo(tmp_path, "misc_faces", "deepface__img1.jpg")
    with_exif = tmp_path / "portrait.jpg"
    image = Image.open(source)
    exif = image.getexif()
    exif[0x013B] = "Grandma's photographer"  # Artist
    image.save(with_exif, exif=exif, quality=95)
    original_bytes = with_exif.read_bytes()
    window.controls_panel.refresh_models()
    window.controls.set("model_id", "gpen-bfr-256")
    window.open_paths([with_exif])
    wait_ready(qtbot, window, 1)
    window.faces.select_all()  # a sharp portrait: unselected by default
    restore_current(qtbot, window)
    doc = window.documents.current
    assert doc.status is Status.RESTORED and len(doc.result.restored) == 1
    full = window.documents.render_preview(doc).copy()
    assert not np.array_equal(full, doc.compositor.display * 0)

    calls = []
    engine_job = window.inference.submit
    window.inference.submit = lambda *a, **k: calls.append(a) or engine_job(*a, **k)
    started = time.perf_counter()
    window.controls_panel.strength.setValue(0)
    latency = time.perf_counter() - started
    half = window.documents.render_preview(doc)
    original = read_photo(with_exif).pixels
    assert calls == [], "a strength change must not run the network"
    assert np.abs(half.astype(int) - original.astype(int)).max() <= 1
    print(f"strength slider to preview: {latency * 1000:.1f} ms")
    window.controls_panel.strength.setValue(100)
    assert np.array_equal(window.documents.render_preview(doc), full)

    with qtbot.waitSignal(window.documents.saved, timeout=JOB_TIMEOUT_MS) as saved:
        window.save_action.trigger()
    written = saved.args[1]
    assert written.parent == tmp_path and written.name == "portrait_restored.jpg"
    assert Image.open(written).getexif()[0x013B] == "Grandma's photographer"
    assert with_exif.read_bytes() == original_bytes
    with qtbot.waitSignal(window.documents.saved, timeout=JOB_TIMEOUT_MS) as again:
        window.save_action.trigger()
    assert again.args[1].name == "portrait_restored-2.jpg"
    assert window.restore_button.text() == "Restore"
    doc.toggle(0)  # the shown result no longer matches the chosen faces
    assert window.restore_button.text() == "Restore again"


def test_cancel_mid_run_leaves_nothing_behind(qtbot, window, tmp_path, gpen):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("deepface__couple.jpg", "dlib__2008_002506.jpg"):
        shutil.copyfile(photo_path("group_photos", name), folder / name)
    window.controls.set("model_id", "gpen-bfr-256")
    window.open_paths([folder])
    wait_ready(qtbot, window, 2)
    before = sorted(p.name for p in folder.iterdir())
    window.export_all_action.trigger()
    qtbot.waitUntil(lambda: window.progress.value() > 0, timeout=JOB_TIMEOUT_MS)
    window.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.documents.restoring(), timeout=JOB_TIMEOUT_MS)
    qtbot.wait(200)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert all(d.status is not Status.RESTORING for d in window.documents.docs)


def test_settings_are_remembered(qtbot, tmp_path):
    first = MainWindow(Settings())
    qtbot.addWidget(first)
    first.controls.set("strength", 0.7)
    first.export_panel.quality.setValue(80)
    first.close()
    settings = load_settings()
    assert settings.strength == pytest.approx(0.7)
    assert settings.export.quality == 80
    assert settings.window_geometry
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.controls_panel.strength.value() == 70
    second.shutdown()


def test_first_run_offers_the_recommended_model(qtbot, window):
    window.after_show([])
    offers = [d for d in window._dialogs if isinstance(d, FirstRunDialog)]
    assert len(offers) == 1 and offers[0].isVisible()
    offers[0].close()


def test_a_dropped_model_file_is_imported_and_offered(qtbot, window, golden_file, tmp_path):
    dropped = tmp_path / "my-gpen.pth"
    shutil.copyfile(golden_file("gpen_bfr_256"), dropped)
    with qtbot.waitSignal(window.model_tasks.modelsChanged, timeout=JOB_TIMEOUT_MS):
        drop(window, [dropped])
    assert model_store.installed_path("gpen-bfr-256") is not None
    assert window.controls.model_id == "gpen-bfr-256"
    assert window.controls_panel.model.currentData() == "gpen-bfr-256"
    assert window.documents.docs == []  # a model file is not opened as a photo


def test_the_window_shows_before_torch_is_imported():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "faceapp", "--quit-after-show"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "torch loaded: no" in done.stdout
    print(done.stdout.strip())


@pytest.mark.slow
def test_new_fidelity_reruns_only_the_network(qtbot, window, tmp_path, golden_file):
    # the official CodeFormer hash is pinned: golden weights come in as a user's custom model
    catalog_toml = paths.config_dir() / "catalog.toml"
    catalog_toml.parent.mkdir(parents=True, exist_ok=True)
    catalog_toml.write_text(
        '[[model]]\nid = "my-codeformer"\npurpose = "face"\narch = "CodeFormer"\n'
        'input_size = 512\nfile_name = "my_codeformer.pth"\nhas_fidelity = true\n'
    )
    model_store.import_model(golden_file("codeformer"), as_id="my-codeformer")
    window.model_tasks.modelsChanged.emit()
    window.controls.set("model_id", "my-codeformer")
    window.controls_panel.sync()
    assert window.controls_panel.fidelity.isVisible()
    window.open_paths([copy_photo(tmp_path, "misc_faces", "deepface__img1.jpg")])
    wait_ready(qtbot, window, 1)
    window.faces.select_all()
    restore_current(qtbot, window)
    doc = window.documents.current
    first, background = doc.result.restored[0].patch.restored.copy(), doc.result.background
    kinds = []
    submit = window.inference.submit
    window.inference.submit = lambda kind, *rest: kinds.append(kind) or submit(kind, *rest)
    with qtbot.waitSignal(window.documents.previewChanged, timeout=JOB_TIMEOUT_MS):
        window.controls_panel.fidelity.setValue(100)
    assert kinds == ["restore"]  # no new read, detection or background job
    assert doc.result.background is background
    assert doc.recipe.fidelity == 1.0
    assert np.abs(doc.result.restored[0].patch.restored - first).max() > 0.01


def test_without_a_screen_the_app_says_what_to_do():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-m", "faceapp"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert "no screen found" in done.stderr and "faceapp-cli restore" in done.stderr


def test_photos_given_on_the_command_line_are_opened(qtbot, window, tmp_path):
    from faceapp.gui.app import parse_args

    photo = copy_photo(tmp_path, "misc_faces", "deepface__img1.jpg")
    args = parse_args([str(photo)])
    window.after_show(args.photos)
    wait_ready(qtbot, window, 1)
    assert window.documents.docs[0].path == photo.resolve()
    assert window.settings.recent_files[0] == str(photo.resolve())
    for dialog in list(window._dialogs):
        dialog.close()
