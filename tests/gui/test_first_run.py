"""The first-run offer: needs_first_run(), download, offline, import, cancel."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QLabel

from faceapp.core import paths
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.gui.first_run import FirstRunDialog, needs_first_run
from faceapp.gui.model_tasks import ModelTasks

from .model_server import go_offline, serving, watching_threads

GPEN = "gpen-bfr-256"
WAIT = 20_000  # ms


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelTasks]:
    """Shut down as the app does on close; the test fails if a QThread it started still runs."""
    with watching_threads(monkeypatch):
        tasks = ModelTasks()
        yield tasks
        tasks.shutdown()


@pytest.fixture
def gpen_recommended(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the small GPEN 256 the recommended model (75 MB of golden weights, not 350)."""
    entries = tuple(
        dataclasses.replace(e, recommended=e.id == GPEN) if e.purpose == catalog.FACE else e
        for e in catalog.BUILTIN_ENTRIES
    )
    monkeypatch.setattr(catalog, "BUILTIN_ENTRIES", entries)
    assert catalog.default_face_model() == GPEN


@pytest.fixture
def gpen_golden(golden_file: Callable[[str], Path]) -> Path:
    return golden_file("gpen_bfr_256")


def make_dialog(qtbot, tasks: ModelTasks) -> FirstRunDialog:
    dialog = FirstRunDialog(tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def texts(dialog: FirstRunDialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


def test_offers_the_recommended_model(qtbot, tasks: ModelTasks) -> None:
    dialog = make_dialog(qtbot, tasks)
    shown = texts(dialog)
    assert dialog.entry.id == catalog.default_face_model() == "gfpgan-1.4"
    assert "<b>GFPGAN v1.4</b> (recommended)" in shown
    assert "Size: 332 MB. Licence: Apache-2.0 repo" in shown
    assert f"It will be saved in: {paths.models_dir()}" in shown
    assert dialog.download_button.isVisible() and dialog.import_button.isEnabled()
    assert not dialog.progress_bar.isVisible()


@pytest.mark.shared
def test_needs_first_run_flips_with_a_face_model(gpen_golden: Path) -> None:
    assert needs_first_run()
    model_store.import_model(gpen_golden)
    assert not needs_first_run()
    model_store.remove(GPEN)
    assert needs_first_run()


@pytest.mark.shared
def test_download_accepts_the_dialog(
    qtbot, tasks: ModelTasks, gpen_recommended: None, gpen_golden: Path, monkeypatch
) -> None:
    dialog = make_dialog(qtbot, tasks)
    statuses: list[str] = []
    with serving(monkeypatch, chunk_delay=0.003) as server:
        server.serve_model(GPEN, gpen_golden)
        tasks.progress.connect(lambda *_: statuses.append(dialog.status_label.text()))
        with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
            dialog.download_button.click()
            assert dialog.progress_bar.isVisible() and not dialog.import_button.isEnabled()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert any(s.startswith("Downloading ") for s in statuses)
    assert model_store.installed_path(GPEN) == paths.models_dir() / "GPEN-BFR-256.pth"
    assert not needs_first_run()


@pytest.mark.shared
def test_offline_says_so_and_keeps_the_import(
    qtbot, tasks: ModelTasks, gpen_recommended: None, gpen_golden: Path, monkeypatch
) -> None:
    go_offline(monkeypatch)
    dialog = make_dialog(qtbot, tasks)
    with qtbot.waitSignal(tasks.failed, timeout=WAIT):
        dialog.download_button.click()
    [report] = dialog.error_panel.reports()
    assert "you seem to be offline" in report.message
    assert dialog.status_label.text().startswith("The download did not work.")
    assert "I have the file" in dialog.status_label.text()
    assert dialog.download_button.text() == "Try again" and dialog.import_button.isEnabled()
    assert dialog.isVisible() and needs_first_run()

    dialog.choose_file = lambda: str(gpen_golden)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.import_button.click()
    assert model_store.installed_path(GPEN) is not None


@pytest.mark.shared
def test_cancel_returns_to_the_offer(
    qtbot, tasks: ModelTasks, gpen_recommended: None, gpen_golden: Path, monkeypatch
) -> None:
    dialog = make_dialog(qtbot, tasks)
    with serving(monkeypatch, chunk_delay=0.02) as server:
        server.serve_model(GPEN, gpen_golden)
        with qtbot.waitSignal(tasks.progress, timeout=WAIT):
            dialog.download_button.click()
        with qtbot.waitSignal(tasks.cancelled, timeout=WAIT):
            dialog.cancel_button.click()
    assert dialog.status_label.text() == "The download was cancelled."
    assert dialog.download_button.isVisible() and not dialog.progress_bar.isVisible()
    assert dialog.isVisible() and not paths.models_dir().joinpath("GPEN-BFR-256.pth.part").exists()


def test_a_file_that_is_not_a_model_shows_an_error(
    qtbot, tasks: ModelTasks, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.pth"
    junk.write_text("not a model")
    dialog = make_dialog(qtbot, tasks)
    dialog.choose_file = lambda: str(junk)
    with qtbot.waitSignal(tasks.failed, timeout=WAIT):
        dialog.import_button.click()
    [report] = dialog.error_panel.reports()
    assert "'notes.pth'" in report.message and report.source == "notes.pth"
    assert dialog.isVisible() and needs_first_run()
