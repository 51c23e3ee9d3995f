"""Per-face tools in the real window: quality labels, Compare models (two golden models, one
at three fidelities) with no second inference when a result is chosen, a face's own strength
used by the preview and the export, and the "already restored" notice."""

from __future__ import annotations

import numpy as np
import pytest
from models_testkit import install_my_codeformer
from PySide6.QtCore import Qt

from faceapp.core import pipeline
from faceapp.core.models import store as model_store
from faceapp.core.photo.provenance import WARNING, marker
from faceapp.core.photo.reading import read_photo
from faceapp.core.photo.writing import SaveOptions, save_photo
from faceapp.gui.face_choices import FaceChoice

from .test_main_window import JOB_TIMEOUT_MS, copy_photo, restore_current, wait_ready

pytestmark = pytest.mark.shared


@pytest.fixture
def models(golden_file, window) -> None:  # noqa: F811
    """GPEN-256 and a CodeFormer (with its fidelity control) installed as a user would."""
    model_store.import_model(golden_file("gpen_bfr_256"))
    install_my_codeformer(golden_file("codeformer"))
    window.model_tasks.modelsChanged.emit()
    window.controls.set("model_id", "gpen-bfr-256")


@pytest.fixture
def inferences(monkeypatch) -> list[float]:
    calls: list[float] = []
    real = pipeline.run_face_model
    monkeypatch.setattr(
        pipeline, "run_face_model", lambda e, m, c, f: calls.append(f) or real(e, m, c, f)
    )
    return calls


def open_couple(qtbot, window, tmp_path):  # noqa: F811
    window.open_paths([copy_photo(tmp_path, "group_photos", "deepface__couple.jpg")])
    wait_ready(qtbot, window, 1)
    return window.documents.current


def test_faces_show_their_quality_and_sharp_ones_start_unselected(qtbot, window, tmp_path):  # noqa: F811
    doc = open_couple(qtbot, window, tmp_path)
    assert len(doc.qualities) == 2
    for row, face in enumerate(doc.faces):
        quality, item = doc.qualities[face.index], window.faces.list.item(row)
        assert quality.label in item.text()
        assert quality.reason in item.toolTip()
        checked = item.checkState() == Qt.CheckState.Checked
        assert checked == quality.needs_restoring
    assert any(not q.needs_restoring for q in doc.qualities.values())  # the couple has one


@pytest.mark.slow
def test_compare_then_choose_needs_no_second_inference(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    models,
    inferences,
):
    doc = open_couple(qtbot, window, tmp_path)
    window.faces.list.setCurrentRow(1)
    assert window.face_box.index == 1 and window.face_box.compare_button.isEnabled()
    with qtbot.waitSignal(window.face_tools.compared, timeout=JOB_TIMEOUT_MS):
        window.face_box.compare_button.click()
    dialog = window._dialogs[-1]
    labels = [tile.text() for tile in dialog.tiles]
    assert labels == [
        "Original",
        "gpen-bfr-256",
        "my-codeformer (fidelity 0.3)",
        "my-codeformer (fidelity 0.6)",
        "my-codeformer (fidelity 0.9)",
    ]
    assert all(tile.iconSize().width() >= 256 for tile in dialog.tiles)
    dialog.size_slider.setValue(512)  # zoom
    assert dialog.tiles[1].iconSize().width() == 512
    assert len(inferences) == 4 and len(doc.candidates[1]) == 4

    kinds: list[str] = []
    submit = window.inference.submit
    window.inference.submit = lambda kind, fn, *rest: kinds.append(kind) or submit(kind, fn, *rest)
    dialog.tiles[3].click()  # CodeFormer at 0.6
    assert kinds == [] and len(inferences) == 4
    assert doc.choices[1] == FaceChoice("my-codeformer", None, 0.6)
    assert "my-codeformer 0.6" in window.faces.list.item(1).text()

    window.faces.select_all()  # face 0 restored with the global GPEN, face 1 as chosen
    restore_current(qtbot, window)
    assert len(inferences) == 5  # face 0 only: face 1 reuses the chosen result
    assert [r.patch.restored.shape[0] for r in doc.result.restored] == [256, 512]
    chosen = doc.candidates[1][(dialog.results[2].candidate.model, 0.6)]
    assert doc.result.restored[1].patch is chosen.restored.patch
    assert not window.documents.stale(doc)

    target = tmp_path / "out.png"
    with qtbot.waitSignal(window.documents.saved, timeout=JOB_TIMEOUT_MS) as saved:
        window.documents.export(doc, target, SaveOptions())
    note = read_photo(saved.args[1]).restored_with
    assert "gpen-bfr-256" in note and "my-codeformer" in note


@pytest.mark.slow
def test_one_faces_strength_reblends_it_alone_and_is_exported(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    models,
    inferences,
):
    doc = open_couple(qtbot, window, tmp_path)
    window.faces.select_all()
    restore_current(qtbot, window)
    before = window.documents.render_preview(doc).copy()
    runs = len(inferences)
    kinds: list[str] = []
    submit = window.inference.submit
    window.inference.submit = lambda kind, fn, *rest: kinds.append(kind) or submit(kind, fn, *rest)

    window.faces.list.setCurrentRow(0)
    window.face_box.own.setChecked(True)
    window.face_box.strength.setValue(0)
    assert kinds == [] and len(inferences) == runs
    assert doc.choices[0].strength == 0.0
    after = window.documents.render_preview(doc)
    original = doc.photo.pixels
    (x0, y0, x1, y1), (u0, v0, u1, v1) = (tuple(int(v) for v in f.box) for f in doc.faces)
    assert np.abs(after[y0:y1, x0:x1].astype(int) - original[y0:y1, x0:x1]).max() <= 1
    assert np.array_equal(after[v0:v1, u0:u1], before[v0:v1, u0:u1])  # face 1 untouched
    assert window.faces.list.currentRow() == 0  # the list kept the selected face

    target = tmp_path / "out.png"
    with qtbot.waitSignal(window.documents.saved, timeout=JOB_TIMEOUT_MS) as saved:
        window.documents.export(doc, target, SaveOptions())
    written = read_photo(saved.args[1]).pixels
    assert np.abs(written[y0:y1, x0:x1].astype(int) - original[y0:y1, x0:x1]).max() <= 1
    assert np.abs(written[v0:v1, u0:u1].astype(int) - original[v0:v1, u0:u1]).max() > 10
    assert np.abs(written.astype(int) - after.astype(int)).max() <= 1  # preview == export


def test_a_photo_faceapp_restored_says_so(qtbot, window, tmp_path):  # noqa: F811
    source = read_photo(copy_photo(tmp_path, "group_photos", "deepface__couple.jpg"))
    marked = save_photo(
        source, tmp_path / "marked.png", SaveOptions(software=marker("restored: gfpgan-1.4"))
    )
    window.open_paths([marked])
    wait_ready(qtbot, window, 1)
    assert window.face_box.notice.isVisibleTo(window) and window.face_box.notice.text() == WARNING
    plain = copy_photo(tmp_path, "misc_faces", "deepface__img1.jpg")
    window.open_paths([plain])
    wait_ready(qtbot, window, 2)
    window.documents.set_current(window.documents.docs[1])
    assert not window.face_box.notice.isVisibleTo(window)


def test_a_face_can_have_its_own_model(qtbot, window, tmp_path, models):  # noqa: F811
    from faceapp.gui import photo_jobs
    from faceapp.gui.face_choices import core_settings, recipe_part

    doc = open_couple(qtbot, window, tmp_path)
    window.faces.list.setCurrentRow(1)
    combo = window.face_box.model
    assert combo.itemData(0) is None  # "Same as all faces" first
    row = combo.findData("my-codeformer")
    combo.setCurrentIndex(row)
    combo.activated.emit(row)
    assert doc.choices[1] == FaceChoice("my-codeformer", None, None)
    assert "my-codeformer" in window.faces.list.item(1).text()
    recipe = window.controls.recipe(doc.included_faces(), recipe_part(doc.choices))
    options = photo_jobs.options_for(recipe, 1.0, core_settings(doc.choices))
    assert options.settings_for(1).model == model_store.installed_path("my-codeformer")
    assert options.settings_for(0).model == model_store.installed_path("gpen-bfr-256")
    window.faces.list.setCurrentRow(0)
    assert combo.currentData() is None
    window.faces.list.setCurrentRow(1)
    assert combo.currentData() == "my-codeformer"
