"""The "Models" window: every catalog model with its licence and status; download, cancel,
remove, import a file (button or drop), open the model folder.

The confirmations and the file chooser are attributes (`confirm_licence`, `confirm_remove`,
`choose_files`, `choose_file`, `open_url`) so that tests can replace them.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from faceapp.core import paths
from faceapp.core.errors import FaceappError
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.models.catalog import CatalogEntry, CatalogError
from faceapp.gui.error_panel import ErrorPanel, ErrorReport, report_from_exception
from faceapp.gui.model_tasks import IMPORT_PREFIX, ModelTasks

MODEL_SUFFIXES = (".pth", ".pt", ".safetensors", ".ckpt")
FILE_FILTER = "Model files (*.pth *.pt *.safetensors *.ckpt);;All files (*)"
GROUPS = (
    ((catalog.FACE, catalog.RESTORE), "Face restoration"),
    ((catalog.FACE, catalog.COLORIZE), "Face colour"),
    ((catalog.FACE, catalog.COMPLETE), "Face completion"),
    ((catalog.BACKGROUND, catalog.RESTORE), "Background upscalers"),
    ((catalog.DETECTOR, catalog.RESTORE), "Face detectors"),
    ((catalog.PARSER, catalog.RESTORE), "Face parsers"),
)
INSTALLED = "Installed"
NOT_INSTALLED = "Not installed"
IMPORT_ONLY = "Import only"
BUILT_IN = "Built in"
_BADGE_STYLE = "border: 1px solid palette(mid); border-radius: 3px; padding: 0 4px;"


# ---------------------------------------------------------------------------------- words


def format_size(size: int | None) -> str:
    if not size:
        return "size unknown"
    mb = size / 1024**2
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:.0f} MB"


def licence_words(entry: CatalogEntry) -> str:
    text = f"Licence: {entry.licence or 'not stated'}"
    if entry.commercial_use is False and "non-commercial" not in text.lower():
        text += ". Non-commercial use only."
    return text


def download_question(entry: CatalogEntry) -> tuple[str, str]:
    """(question, licence and destination) for the confirmation before a download."""
    question = f"Download {entry.name} ({format_size(entry.size)})?"
    where = paths.models_dir() / entry.file_name
    return question, f"{licence_words(entry)}\n\nIt will be saved as:\n{where}"


def model_files(mime: QMimeData) -> list[Path]:
    """The local model files (by suffix) among dragged URLs."""
    files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [f for f in files if f.suffix.lower() in MODEL_SUFFIXES]


def progress_text(done: int, total: int, speed: float) -> str:
    """What a download's progress bar says, e.g. "120 MB of 332 MB · 5.1 MB/s"."""
    text = f"{format_size(done)} of {format_size(total)}" if total > 0 else format_size(done)
    return f"{text} · {format_size(int(speed))}/s" if speed > 0 else text


def progress_status(done: int, total: int) -> str:
    if total > 0:
        return f"Downloading {min(100, done * 100 // total)} %"
    return f"Downloading {format_size(done)}" if done else "Downloading…"


# ---------------------------------------------------------------------------------- one row


class ModelRow(QFrame):
    """One model: name, badges, description, size and licence, status, and its buttons."""

    def __init__(self, entry: CatalogEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setObjectName(f"model-row-{entry.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.status_label = QLabel()
        self.status_label.setAccessibleName(f"{entry.name} status")
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.download_button = self._button("Download", f"Download {entry.name}")
        self.cancel_button = self._button("Cancel", "Stop the download")
        self.remove_button = self._button("Remove", f"Delete the {entry.name} file")
        self.import_button = self._button("Import…", f"Use a {entry.name} file you already have")
        self._layout()

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setAccessibleDescription(tip)
        return button

    def _layout(self) -> None:
        title = QHBoxLayout()
        title.addWidget(_label(f"<b>{html.escape(self.entry.display_name)}</b>", rich=True))
        for text in self.badges():
            badge = QLabel(text)
            badge.setStyleSheet(_BADGE_STYLE)
            title.addWidget(badge)
        title.addStretch(1)
        title.addWidget(self.status_label)
        facts = f"{format_size(self.entry.size)} · {licence_words(self.entry)}"
        text = QVBoxLayout()
        text.addLayout(title)
        text.addWidget(_label(self.entry.description, wrap=True))
        text.addWidget(_label(facts, wrap=True))
        text.addWidget(self.progress_bar)
        buttons = QVBoxLayout()
        for button in (self.download_button, self.import_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.addLayout(text, 1)
        row.addLayout(buttons)

    def badges(self) -> list[str]:
        badges = ["Recommended"] if self.entry.recommended else []
        return badges + (["Non-commercial"] if self.entry.commercial_use is False else [])

    def show_idle(self, installed: bool | None) -> None:
        """Not downloading; ``installed`` None when it cannot be told (broken user catalog)."""
        entry = self.entry
        self.status_label.setText(_idle_status(entry, installed))
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.download_button.setVisible(entry.downloadable and installed is False)
        self.import_button.setVisible(not entry.urls and not entry.shipped and not installed)
        self.remove_button.setVisible(bool(installed) and not entry.shipped)

    def show_progress(self, done: int, total: int, speed: float) -> None:
        self.status_label.setText(progress_status(done, total))
        self.progress_bar.setVisible(True)
        self.progress_bar.setRange(0, 1000 if total > 0 else 0)  # 0, 0: a busy bar
        if total > 0:
            self.progress_bar.setValue(min(1000, done * 1000 // total))
        self.progress_bar.setFormat(progress_text(done, total, speed))
        self.cancel_button.setVisible(True)
        for button in (self.download_button, self.import_button, self.remove_button):
            button.setVisible(False)


def _idle_status(entry: CatalogEntry, installed: bool | None) -> str:
    if installed is None:
        return "Unknown"
    if installed:
        return BUILT_IN if entry.shipped else INSTALLED
    return NOT_INSTALLED if entry.downloadable else IMPORT_ONLY


def _display_name(model_id: str) -> str:
    try:
        return catalog.get_entry(model_id).display_name
    except CatalogError:
        return model_id


def _label(text: str, wrap: bool = False, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


# ---------------------------------------------------------------------------------- dialog


class ModelManagerDialog(QDialog):
    def __init__(self, tasks: ModelTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setAcceptDrops(True)
        self.resize(760, 640)
        self.tasks = tasks
        self.confirm_licence: Callable[[CatalogEntry], bool] = self.ask_licence
        self.confirm_remove: Callable[[CatalogEntry], bool] = self.ask_remove
        self.choose_files: Callable[[], list[str]] = self.ask_files
        self.choose_file: Callable[[CatalogEntry], str] = self.ask_file
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.error_panel = ErrorPanel(self)
        self.note_label = _label("", wrap=True)
        self.folder_label = _label(str(paths.models_dir()), wrap=True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rows: dict[str, ModelRow] = {}
        self.scroll = QScrollArea()
        self._build()
        self._connect_tasks()
        self.refresh()

    def row(self, model_id: str) -> ModelRow:
        return self.rows[model_id]

    # --- building ---

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self.error_panel)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self._model_list(self._entries()))
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.note_label)
        layout.addLayout(self._footer())
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)

    def _entries(self) -> list[CatalogEntry]:
        try:
            return catalog.catalog()
        except CatalogError as error:
            self.error_panel.show_error(report_from_exception(error))
            return list(catalog.BUILTIN_ENTRIES)

    def _model_list(self, entries: list[CatalogEntry]) -> QWidget:
        content = QWidget()
        column = QVBoxLayout(content)
        for kind, heading in GROUPS:
            group = [e for e in entries if (e.purpose, e.task) == kind]
            if group:
                column.addWidget(_label(f"<h3>{heading}</h3>", rich=True))
            for entry in group:
                column.addWidget(self._make_row(entry))
        column.addStretch(1)
        return content

    def _make_row(self, entry: CatalogEntry) -> ModelRow:
        row = ModelRow(entry)
        row.download_button.clicked.connect(partial(self.start_download, entry))
        row.cancel_button.clicked.connect(partial(self.cancel_download, entry))
        row.remove_button.clicked.connect(partial(self.remove_model, entry))
        row.import_button.clicked.connect(partial(self._import_as, entry))
        self.rows[entry.id] = row
        return row

    def _footer(self) -> QVBoxLayout:
        self.import_button = QPushButton("Import a model file…")
        self.import_button.setToolTip(
            "Add a model file you already have (you can also drop it here). A file that is not "
            "the official file of a model above is added as a model of your own."
        )
        self.import_button.clicked.connect(self._import_chosen)
        self.custom_name = QLineEdit()
        self.custom_name.setPlaceholderText("from the file name")
        self.custom_name.setAccessibleName("Name of your own model")
        self.custom_name.setToolTip("The name a model of your own gets in the model lists")
        self.open_folder_button = QPushButton("Open models folder")
        self.open_folder_button.clicked.connect(self.open_models_folder)
        imports = QHBoxLayout()
        imports.addWidget(self.import_button)
        imports.addWidget(QLabel("Name, if it is your own model:"))
        imports.addWidget(self.custom_name, 1)
        folder = QHBoxLayout()
        folder.addWidget(self.open_folder_button)
        folder.addWidget(QLabel("Models are stored in:"))
        folder.addWidget(self.folder_label, 1)
        footer = QVBoxLayout()
        footer.addLayout(imports)
        footer.addLayout(folder)
        return footer

    def _connect_tasks(self) -> None:
        self.tasks.progress.connect(self._on_progress)
        self.tasks.finished.connect(self._on_finished)
        self.tasks.failed.connect(self._on_failed)
        self.tasks.cancelled.connect(self._on_cancelled)
        self.tasks.modelsChanged.connect(self.refresh)

    # --- state ---

    @Slot()
    def refresh(self) -> None:
        try:
            rows = model_store.model_status()
        except CatalogError:
            rows = []
        if rows and {row["id"] for row in rows} != set(self.rows):
            self._rebuild_rows()  # a custom model was added or removed
        installed = {row["id"]: row["installed"] for row in rows}
        for model_id, row in self.rows.items():
            if self.tasks.is_running(model_id):
                row.show_progress(*(self.tasks.progress_of(model_id) or (0, 0)), 0.0)
            else:
                row.show_idle(installed.get(model_id))

    def _rebuild_rows(self) -> None:
        self.rows = {}
        old = self.scroll.takeWidget()
        self.scroll.setWidget(self._model_list(self._entries()))
        if old is not None:
            old.deleteLater()

    # --- actions ---

    def start_download(self, entry: CatalogEntry) -> None:
        if not self.confirm_licence(entry):
            return
        self.note_label.clear()
        self.tasks.download(entry.id)
        self.rows[entry.id].show_progress(0, entry.size or 0, 0.0)

    def cancel_download(self, entry: CatalogEntry) -> None:
        self.tasks.cancel(entry.id)

    def remove_model(self, entry: CatalogEntry) -> None:
        if not self.confirm_remove(entry):
            return
        try:
            self.tasks.remove(entry.id)
        except FaceappError as error:
            self.error_panel.show_error(report_from_exception(error, entry.name))
            return
        self.note_label.setText(f"{entry.name} was removed.")

    def import_paths(self, files: list[str | Path], as_id: str | None = None) -> None:
        """Import each file on its own thread (as ``as_id`` when given; a file that is no
        catalog model's becomes a custom model, named as the name field says)."""
        typed = self.custom_name.text().strip()
        name = typed if typed and as_id is None and len(files) == 1 else None
        for file in files:
            self.tasks.import_file(file, as_id, name=name)
        names = ", ".join(f"'{Path(f).name}'" for f in files)
        if names:
            self.note_label.setText(f"Adding {names}…")

    def open_models_folder(self) -> None:
        folder = paths.models_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if not self.open_url(QUrl.fromLocalFile(str(folder))):
            self.note_label.setText(f"Could not open the folder. It is: {folder}")

    def _import_chosen(self) -> None:
        self.import_paths(list(self.choose_files()))

    def _import_as(self, entry: CatalogEntry) -> None:
        file = self.choose_file(entry)
        if file:
            self.import_paths([file], as_id=entry.id)

    # --- the questions (replaced in tests) ---

    def ask_licence(self, entry: CatalogEntry) -> bool:
        question, details = download_question(entry)
        box = QMessageBox(QMessageBox.Icon.Question, "Download a model", question, parent=self)
        box.setInformativeText(details)
        download = box.addButton("Download", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is download

    def ask_remove(self, entry: CatalogEntry) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove a model",
            f"Delete the {entry.name} file? You can download or import it again later.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_files(self) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(self, "Import model files", "", FILE_FILTER)
        return files

    def ask_file(self, entry: CatalogEntry) -> str:
        file, _ = QFileDialog.getOpenFileName(self, f"Import {entry.name}", "", FILE_FILTER)
        return file

    # --- drops ---

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if model_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = model_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.import_paths(list(files))

    # --- job reports ---

    @Slot(str, "qint64", "qint64", float)
    def _on_progress(self, key: str, done: int, total: int, speed: float) -> None:
        if key in self.rows:
            self.rows[key].show_progress(done, total, speed)

    @Slot(str, str, str)
    def _on_finished(self, key: str, model_id: str, _path: str) -> None:
        name = _display_name(model_id)
        if key.startswith(IMPORT_PREFIX):
            source = Path(key.removeprefix(IMPORT_PREFIX)).name
            self.note_label.setText(f"'{source}' was added as {name}.")
            self.custom_name.clear()
        else:
            self.note_label.setText(f"{name} is installed.")

    @Slot(str, str, str)
    def _on_failed(self, key: str, message: str, details: str) -> None:
        self.error_panel.show_error(ErrorReport(message, details, self._source(key)))
        self.note_label.clear()
        self.refresh()

    @Slot(str)
    def _on_cancelled(self, key: str) -> None:
        self.note_label.setText(f"{self._source(key)}: cancelled.")
        self.refresh()

    def _source(self, key: str) -> str:
        if key.startswith(IMPORT_PREFIX):
            return Path(key.removeprefix(IMPORT_PREFIX)).name
        return self.rows[key].entry.name if key in self.rows else key
