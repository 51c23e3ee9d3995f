"""The first-run offer, shown by the main window while no face restoration model is installed:
the recommended model with one "Download" button, or "I have the file…" to import one.

The dialog accepts itself as soon as a face model is installed (from here or from elsewhere).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from faceapp.core import paths
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.models.catalog import CatalogError
from faceapp.gui.error_panel import ErrorPanel, ErrorReport
from faceapp.gui.model_manager import (
    FILE_FILTER,
    format_size,
    licence_words,
    progress_status,
    progress_text,
)
from faceapp.gui.model_tasks import IMPORT_PREFIX, ModelTasks, import_key

INTRO = (
    "To repair faces, faceapp needs a face restoration model: a file of a few hundred "
    "megabytes that is downloaded once. Download the recommended one below, or use a model "
    "file you already have."
)
CHOSEN_INTRO = (
    "This model is not on your computer yet. It is downloaded once; you can also use a model "
    "file you already have."
)
RETRY_HINT = "You can try again, or choose “I have the file…” if you already have the model file."


def needs_first_run() -> bool:
    """True while no face restoration model is installed."""
    try:
        rows = model_store.model_status()
    except CatalogError:
        return False  # a broken catalog.toml is reported where models are used; start anyway
    return not any(row["installed"] for row in rows if row["task"] == catalog.RESTORE)


class FirstRunDialog(QDialog):
    def __init__(
        self, tasks: ModelTasks, parent: QWidget | None = None, model_id: str | None = None
    ) -> None:
        super().__init__(parent)
        self.offering_default = model_id is None
        self.setWindowTitle("Get a face restoration model")
        self.setMinimumWidth(560)
        self.tasks = tasks
        self.entry = catalog.get_entry(model_id or catalog.default_face_model())
        self.choose_file: Callable[[], str] = self.ask_file
        self._imports: set[str] = set()
        self.error_panel = ErrorPanel(self)
        self.status_label = _wrapped("")
        self.progress_bar = QProgressBar()
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.import_button = QPushButton("I have the file…")
        self.later_button = QPushButton("Not now")
        self._build()
        self._connect()
        self._show_idle()

    # --- building ---

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(_wrapped(INTRO if self.offering_default else CHOSEN_INTRO))
        layout.addWidget(self._model_box())
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_panel)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.import_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        layout.addLayout(buttons)
        self.download_button.setDefault(True)

    def _model_box(self) -> QFrame:
        entry = self.entry
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        column = QVBoxLayout(box)
        badge = " (recommended)" if entry.recommended else ""
        title = QLabel(f"<b>{html.escape(entry.name)}</b>{badge}")
        title.setTextFormat(Qt.TextFormat.RichText)
        column.addWidget(title)
        column.addWidget(_wrapped(entry.description))
        column.addWidget(_wrapped(f"Size: {format_size(entry.size)}. {licence_words(entry)}"))
        where = _wrapped(f"It will be saved in: {paths.models_dir()}")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(where)
        return box

    def _connect(self) -> None:
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self.import_chosen)
        self.later_button.clicked.connect(self.reject)
        self.tasks.progress.connect(self._on_progress)
        self.tasks.finished.connect(self._on_finished)
        self.tasks.failed.connect(self._on_failed)
        self.tasks.cancelled.connect(self._on_cancelled)
        self.tasks.modelsChanged.connect(self._on_models_changed)

    # --- actions ---

    def start_download(self) -> None:
        self.error_panel.clear()
        self.tasks.download(self.entry.id)
        self._show_downloading(0, self.entry.size or 0)

    def cancel_download(self) -> None:
        self.tasks.cancel(self.entry.id)

    def import_chosen(self) -> None:
        file = self.choose_file()
        if not file:
            return
        self.error_panel.clear()
        self._imports.add(import_key(file))
        self.tasks.import_file(file)
        self.status_label.setText(f"Adding '{Path(file).name}'…")

    def ask_file(self) -> str:
        file, _ = QFileDialog.getOpenFileName(self, "Choose a model file", "", FILE_FILTER)
        return file

    def reject(self) -> None:
        # Keep what was received: a later download resumes from it.
        self.tasks.cancel(self.entry.id, discard=False)
        super().reject()

    # --- states ---

    def _show_idle(self) -> None:
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.download_button.setVisible(self.entry.downloadable)
        self.import_button.setEnabled(True)

    def _show_downloading(self, done: int, total: int, speed: float = 0.0) -> None:
        self.progress_bar.setVisible(True)
        self.progress_bar.setRange(0, 1000 if total > 0 else 0)
        if total > 0:
            self.progress_bar.setValue(min(1000, done * 1000 // total))
        self.progress_bar.setFormat(progress_text(done, total, speed))
        self.status_label.setText(progress_status(done, total))
        self.cancel_button.setVisible(True)
        self.download_button.setVisible(False)
        self.import_button.setEnabled(False)

    # --- job reports ---

    @Slot(str, "qint64", "qint64", float)
    def _on_progress(self, key: str, done: int, total: int, speed: float) -> None:
        if key == self.entry.id:
            self._show_downloading(done, total, speed)

    @Slot(str, str, str)
    def _on_finished(self, key: str, model_id: str, _path: str) -> None:
        if key in self._imports and needs_first_run():
            name = catalog.get_entry(model_id).name
            self.status_label.setText(
                f"That file was added as {name}, which is not a face restoration model. "
                "Choose a face restoration model file."
            )

    @Slot(str, str, str)
    def _on_failed(self, key: str, message: str, details: str) -> None:
        if key == self.entry.id:
            self.error_panel.show_error(ErrorReport(message, details, self.entry.name))
            self.status_label.setText(f"The download did not work. {RETRY_HINT}")
            self.download_button.setText("Try again")
            self._show_idle()
        elif key in self._imports:
            source = Path(key.removeprefix(IMPORT_PREFIX)).name
            self.error_panel.show_error(ErrorReport(message, details, source))
            self.status_label.clear()

    @Slot(str)
    def _on_cancelled(self, key: str) -> None:
        if key == self.entry.id:
            self.status_label.setText("The download was cancelled.")
            self._show_idle()

    @Slot()
    def _on_models_changed(self) -> None:
        if not needs_first_run():
            self.accept()


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label
