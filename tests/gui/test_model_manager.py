"""The model manager dialog and ModelTasks, against a local server serving golden weights."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThread, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from faceapp.core import paths
from faceapp.core.models import store as model_store
from faceapp.core.models.catalog import CatalogEntry
from faceapp.core.models.download import sha256_file
from faceapp.gui.model_manager import (
    BUILT_IN,
    IMPORT_ONLY,
    INSTALLED,
    NOT_INSTALLED,
    ModelManagerDialog,
)
from faceapp.gui.model_tasks import ModelTasks, import_key

from .model_server import go_offline, serving, watching_threads

GPEN = "gpen-bfr-256"  # the smallest face model (75 MB of golden weights), not pinned
GPEN_FILE = "GPEN-BFR-256.pth"
WAIT = 20_000  # ms; downloads of 75 MB from 127.0.0.1 take about a second


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[QThread]]:
    """Every QThread the test starts; the test fails if one still runs at its end."""
    with watching_threads(monkeypatch) as started:
        yield started


@pytest.fixture
def tasks(threads: list[QThread]) -> Iterator[ModelTasks]:
    """The app's ModelTasks, shut down at the end as the app does on close."""
    tasks = ModelTasks()
    yield tasks
    tasks.shutdown()


@pytest.fixture
def dialog(qtbot, tasks: ModelTasks) -> ModelManagerDialog:
    dialog = ModelManagerDialog(tasks)
    dialog.confirm_licence = lambda entry: True
    dialog.confirm_remove = lambda entry: True
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.fixture
def gpen_golden(golden_file: Callable[[str], Path]) -> Path:
    return golden_file("gpen_bfr_256")


def folder_names() -> list[str]:
    folder = paths.models_dir()
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def status(dialog: ModelManagerDialog, model_id: str) -> str:
    return dialog.row(model_id).status_label.text()


# ------------------------------------------------------------------------------ listing


def test_rows_are_grouped_with_licence_size_and_status(dialog: ModelManagerDialog) -> None:
    texts = [label.text() for label in dialog.findChildren(type(dialog.note_label))]
    headings = [t for t in texts if t.startswith("<h3>")]
    assert headings == [
        "<h3>Face restoration</h3>",
        "<h3>Face colour</h3>",
        "<h3>Face completion</h3>",
        "<h3>Background upscalers</h3>",
        "<h3>Face detectors</h3>",
        "<h3>Face parsers</h3>",
    ]
    assert status(dialog, "gfpgan-1.4") == NOT_INSTALLED
    assert status(dialog, "gpen-bfr-1024") == IMPORT_ONLY
    assert status(dialog, "gpen-colorization-1024") == NOT_INSTALLED
    assert status(dialog, "retinaface-mobile") == BUILT_IN
    codeformer = dialog.row("codeformer")
    assert codeformer.badges() == ["Non-commercial"]
    assert dialog.row("gfpgan-1.4").badges() == ["Recommended"]
    row_texts = [label.text() for label in codeformer.findChildren(type(dialog.note_label))]
    assert "359 MB · Licence: NTU S-Lab License 1.0 (non-commercial)" in row_texts
    assert codeformer.download_button.isVisible() and not codeformer.remove_button.isVisible()
    gpen_1024 = dialog.row("gpen-bfr-1024")
    assert gpen_1024.import_button.isVisible() and not gpen_1024.download_button.isVisible()
    assert dialog.folder_label.text() == str(paths.models_dir())


def test_open_models_folder(dialog: ModelManagerDialog) -> None:
    opened: list[QUrl] = []
    dialog.open_url = lambda url: opened.append(url) or True
    dialog.open_folder_button.click()
    assert opened == [QUrl.fromLocalFile(str(paths.models_dir()))]
    assert paths.models_dir().is_dir()


# ------------------------------------------------------------------------------ download


@pytest.mark.shared
def test_download_shows_progress_and_ends_installed(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, gpen_golden: Path, monkeypatch
) -> None:
    asked: list[CatalogEntry] = []
    dialog.confirm_licence = lambda entry: asked.append(entry) or True
    seen: list[str] = []
    with serving(monkeypatch, chunk_delay=0.003) as server:
        server.serve_model(GPEN, gpen_golden)
        # Connected after the dialog: each record shows what the dialog made of a report.
        tasks.progress.connect(lambda *_: seen.append(status(dialog, GPEN)))
        with qtbot.waitSignal(tasks.finished, timeout=WAIT) as finished:
            dialog.row(GPEN).download_button.click()
            assert dialog.row(GPEN).cancel_button.isVisible()
    assert [entry.id for entry in asked] == [GPEN]
    key, model_id, path = finished.args
    assert (key, model_id) == (GPEN, GPEN)
    assert Path(path) == paths.models_dir() / GPEN_FILE
    assert sha256_file(Path(path)) == sha256_file(gpen_golden)
    assert model_store.verify([GPEN]) == [(GPEN, True, "SHA-256 matches")]
    assert any(
        s.startswith("Downloading ") and s.endswith(" %") and s != "Downloading 100 %" for s in seen
    )
    row = dialog.row(GPEN)
    assert status(dialog, GPEN) == INSTALLED
    assert not row.progress_bar.isVisible() and row.remove_button.isVisible()
    assert not tasks.busy()
    assert folder_names() == [GPEN_FILE, "hashes.json"]


def test_declining_the_licence_downloads_nothing(
    dialog: ModelManagerDialog, tasks: ModelTasks, monkeypatch
) -> None:
    dialog.confirm_licence = lambda entry: False
    with serving(monkeypatch) as server:
        dialog.row(GPEN).download_button.click()
        assert not tasks.busy() and server.requests == []
    assert status(dialog, GPEN) == NOT_INSTALLED


@pytest.mark.shared
def test_cancel_mid_download_leaves_nothing(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, gpen_golden: Path, monkeypatch
) -> None:
    with serving(monkeypatch, chunk_delay=0.02) as server:  # about 12 MB/s: 6 s for 75 MB
        server.serve_model(GPEN, gpen_golden)
        with qtbot.waitSignal(tasks.progress, timeout=WAIT):
            dialog.row(GPEN).download_button.click()
        assert (paths.models_dir() / f"{GPEN_FILE}.part").is_file()
        with qtbot.waitSignal(tasks.cancelled, timeout=WAIT) as cancelled:
            dialog.row(GPEN).cancel_button.click()
    assert cancelled.args == [GPEN]
    assert folder_names() == []
    assert status(dialog, GPEN) == NOT_INSTALLED
    assert not dialog.row(GPEN).progress_bar.isVisible()
    assert dialog.error_panel.count() == 0 and "cancelled" in dialog.note_label.text()


def test_offline_shows_a_plain_error(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, monkeypatch
) -> None:
    go_offline(monkeypatch)
    with qtbot.waitSignal(tasks.failed, timeout=WAIT) as failed:
        dialog.row(GPEN).download_button.click()
    assert failed.args[0] == GPEN
    [report] = dialog.error_panel.reports()
    assert "you seem to be offline" in report.message and "import" in report.message
    assert "Traceback" not in report.message and "DownloadError" in report.details
    assert report.source == "GPEN 256"
    assert dialog.error_panel.isVisible()
    assert status(dialog, GPEN) == NOT_INSTALLED and dialog.row(GPEN).download_button.isVisible()
    assert folder_names() == []


@pytest.mark.shared
def test_wrong_file_on_the_server_is_a_checksum_error(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, golden_file, monkeypatch
) -> None:
    # Golden weights are not the official file, whose size and SHA-256 the catalog pins.
    with serving(monkeypatch) as server:
        server.serve_model("realesr-general-x4v3", golden_file("realesr_general_x4v3"))
        with qtbot.waitSignal(tasks.failed, timeout=WAIT):
            dialog.row("realesr-general-x4v3").download_button.click()
    [report] = dialog.error_panel.reports()
    assert "not the expected one" in report.message
    assert folder_names() == []
    assert status(dialog, "realesr-general-x4v3") == NOT_INSTALLED


@pytest.mark.shared
def test_shutdown_mid_download_stops_the_thread_and_keeps_the_part(
    qtbot, tasks: ModelTasks, threads: list[QThread], gpen_golden: Path, monkeypatch
) -> None:
    with serving(monkeypatch, chunk_delay=0.02) as server:
        server.serve_model(GPEN, gpen_golden)
        with qtbot.waitSignal(tasks.progress, timeout=WAIT):
            task = tasks.download(GPEN)
        assert tasks.download(GPEN) is task  # one download per model
        assert tasks.busy() and len(threads) == 1 and threads[0].isRunning()
        tasks.shutdown()
        assert not threads[0].isRunning()  # waited for, while the server still sends
    assert not tasks.busy()
    assert folder_names() == [f"{GPEN_FILE}.part"]  # a later download resumes from it


# ------------------------------------------------------------------------------ import, remove


@pytest.mark.shared
def test_import_of_a_golden_file_installs_it(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, gpen_golden: Path
) -> None:
    with (
        qtbot.waitSignal(tasks.modelsChanged, timeout=WAIT),
        qtbot.waitSignal(tasks.finished, timeout=WAIT) as finished,
    ):
        dialog.choose_files = lambda: [str(gpen_golden)]
        dialog.import_button.click()
    assert finished.args == [import_key(gpen_golden), GPEN, str(paths.models_dir() / GPEN_FILE)]
    assert status(dialog, GPEN) == INSTALLED
    assert dialog.note_label.text() == f"'{gpen_golden.name}' was added as GPEN 256."
    assert gpen_golden.is_file()  # the user's file stays where it was


@pytest.mark.shared
def test_dropped_file_is_imported(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, gpen_golden: Path
) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(gpen_golden)), QUrl.fromLocalFile("/tmp/photo.jpg")])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(tasks.finished, timeout=WAIT):
        dialog.dropEvent(drop)
        assert tasks.running_keys() == [import_key(gpen_golden)]  # not the photo
    assert drop.isAccepted()
    assert model_store.installed_path(GPEN) == paths.models_dir() / GPEN_FILE


@pytest.mark.shared
def test_import_on_a_hifacegan_row_puts_it_in_the_model_picker(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, golden_file: Callable[[str], Path]
) -> None:
    """HiFaceGAN's files carry no hash to tell its checkpoints apart: a row's Import… says which."""
    from faceapp.gui.controls_panel import ControlsPanel
    from faceapp.gui.state import Controls

    renov = dialog.row("hifacegan-renov")
    assert status(dialog, "hifacegan-renov") == IMPORT_ONLY and renov.badges() == ["Non-commercial"]
    file = golden_file("hifacegan")
    dialog.choose_file = lambda entry: str(file)
    with qtbot.waitSignal(tasks.finished, timeout=WAIT) as finished:
        renov.import_button.click()
    assert finished.args[1] == "hifacegan-renov"
    assert status(dialog, "hifacegan-renov") == INSTALLED
    assert status(dialog, "hifacegan-generic") == IMPORT_ONLY

    panel = ControlsPanel(Controls("hifacegan-renov", 1.0, 0.5, 1, "lanczos"))
    qtbot.addWidget(panel)
    picker = [
        (panel.model.itemText(i), panel.model.itemData(i)) for i in range(panel.model.count())
    ]
    assert picker[0] == ("HiFaceGAN renovation", "hifacegan-renov")  # the only installed one
    assert ("HiFaceGAN generic — import a file", "hifacegan-generic") in picker


def test_importing_a_non_model_file_shows_an_error(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, tmp_path: Path
) -> None:
    junk = tmp_path / "holiday.pth"
    junk.write_bytes(os.urandom(10_000))
    with qtbot.waitSignal(tasks.failed, timeout=WAIT) as failed:
        dialog.import_paths([junk])
    assert failed.args[0] == import_key(junk)
    [report] = dialog.error_panel.reports()
    assert "'holiday.pth'" in report.message and report.source == "holiday.pth"
    assert report.details
    assert folder_names() == []


@pytest.mark.shared
def test_remove_asks_then_deletes(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, gpen_golden: Path
) -> None:
    model_store.import_model(gpen_golden)
    dialog.refresh()
    row = dialog.row(GPEN)
    assert status(dialog, GPEN) == INSTALLED

    dialog.confirm_remove = lambda entry: False
    row.remove_button.click()
    assert model_store.installed_path(GPEN) is not None

    dialog.confirm_remove = lambda entry: entry.id == GPEN
    with qtbot.waitSignal(tasks.modelsChanged, timeout=1000):
        row.remove_button.click()
    assert model_store.installed_path(GPEN) is None
    assert status(dialog, GPEN) == NOT_INSTALLED and row.download_button.isVisible()
    assert dialog.note_label.text() == "GPEN 256 was removed."


def test_remove_of_a_missing_model_shows_the_error(dialog: ModelManagerDialog) -> None:
    dialog.remove_model(dialog.row(GPEN).entry)
    [report] = dialog.error_panel.reports()
    assert "is not installed" in report.message


def test_licence_question_names_licence_size_and_place(qtbot, tasks: ModelTasks) -> None:
    dialog = ModelManagerDialog(tasks)  # its own questions, answered by "clicking"
    qtbot.addWidget(dialog)
    seen: list[str] = []

    def answer(button_text: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(f"{box.text()}\n{box.informativeText()}")
        [button] = [b for b in box.buttons() if b.text() == button_text]
        button.click()

    entry = dialog.row("codeformer").entry
    QTimer.singleShot(0, lambda: answer("Download"))
    assert dialog.ask_licence(entry) is True
    QTimer.singleShot(0, lambda: answer("Cancel"))
    assert dialog.ask_licence(entry) is False
    question, details = seen[0].split("\n", 1)
    assert question == "Download CodeFormer (359 MB)?"
    assert "Licence: NTU S-Lab License 1.0 (non-commercial)\n" in details
    assert str(paths.models_dir() / "codeformer.pth") in details


# ------------------------------------------------------------------------------ custom models


@pytest.mark.shared
def test_a_file_of_ones_own_is_added_as_custom_named_in_the_window(
    qtbot, dialog: ModelManagerDialog, tasks: ModelTasks, golden_file: Callable[[str], Path]
) -> None:
    from faceapp.core.models import catalog
    from faceapp.gui.controls_panel import ControlsPanel
    from faceapp.gui.state import Controls

    mine = golden_file("gfpgan_v1.4")  # a GFPGAN, but not the official (pinned) file
    dialog.custom_name.setText("Grandma GFPGAN")
    with qtbot.waitSignal(tasks.finished, timeout=WAIT) as finished:
        dialog.choose_files = lambda: [str(mine)]
        dialog.import_button.click()
    assert finished.args[1] == "grandma-gfpgan"
    entry = catalog.get_entry("grandma-gfpgan")
    assert (entry.custom, entry.arch, entry.input_size) == (True, "GFPGAN", 512)
    added = f"'{mine.name}' was added as Grandma GFPGAN (custom, GFPGAN)."
    assert dialog.note_label.text() == added
    assert dialog.custom_name.text() == ""

    row = dialog.row("grandma-gfpgan")  # a new row, made when the catalog changed
    titles = [label.text() for label in row.findChildren(type(dialog.note_label))]
    assert "<b>Grandma GFPGAN (custom, GFPGAN)</b>" in titles
    assert status(dialog, "grandma-gfpgan") == INSTALLED and row.remove_button.isVisible()

    panel = ControlsPanel(Controls("grandma-gfpgan", 1.0, 0.5, 1, "lanczos"))
    qtbot.addWidget(panel)
    picker = [panel.model.itemText(i) for i in range(panel.model.count())]
    assert picker[0] == "Grandma GFPGAN (custom, GFPGAN)"

    with qtbot.waitSignal(tasks.modelsChanged, timeout=1000):
        dialog.row("grandma-gfpgan").remove_button.click()
    assert "grandma-gfpgan" not in dialog.rows
    assert "grandma-gfpgan" not in {e.id for e in catalog.catalog()}
    assert folder_names() == ["hashes.json"]
