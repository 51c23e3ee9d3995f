"""The main window: layout, actions and the wiring between the panels and the documents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.progress import Progress
from faceapp.gui.canvas_binding import CanvasBinding
from faceapp.gui.compare_view import CompareDialog
from faceapp.gui.controls_panel import ControlsPanel
from faceapp.gui.documents import Documents
from faceapp.gui.error_panel import ErrorPanel, ErrorReport, report_from_exception
from faceapp.gui.export_panel import ExportPanel, target_for
from faceapp.gui.face_box import FaceBox
from faceapp.gui.face_tools import FaceTools
from faceapp.gui.faces_panel import FacesPanel
from faceapp.gui.first_run import FirstRunDialog, needs_first_run
from faceapp.gui.inference import InferenceThread
from faceapp.gui.model_manager import ModelManagerDialog
from faceapp.gui.model_tasks import ModelTasks
from faceapp.gui.photo_canvas import PhotoCanvas
from faceapp.gui.photo_list import PhotoList
from faceapp.gui.qimage import qimage_to_array
from faceapp.gui.repair_panel import RepairPanel
from faceapp.gui.repair_tools import RepairTools
from faceapp.gui.state import Controls, PhotoDoc
from faceapp.settings import Settings, save_settings

MODEL_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")
IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.bmp *.gif *.heic *.heif *.avif)"


def controls_from(settings: Settings) -> Controls:
    preferred = settings.face_model or catalog.default_face_model()
    model = installed_face_model(preferred) or preferred
    background = settings.background_model if settings.background == "model" else "lanczos"
    controls = Controls(
        model, settings.strength, settings.fidelity, settings.upscale, background or "lanczos"
    )
    controls.colorize = settings.colorize
    controls.colour_model = settings.colour_model
    controls.colour_strength = settings.colour_strength
    controls.repair, controls.repair_method = settings.repair, settings.repair_method
    controls.complete_faces = settings.complete_faces
    return controls


def installed_face_model(preferred: str) -> str | None:
    """The preferred face model when installed, else the first installed one, else None."""
    entries = catalog.catalog()
    installed = [e.id for e in entries if e.restores_faces and model_store.installed_file(e)]
    if preferred in installed:
        return preferred
    return installed[0] if installed else None


class _VerticalScroll(QScrollArea):
    """Scrolls up and down only, as wide as its content needs. The content gets the height
    there is, and scrolls only below its minimum (QScrollArea's own resizing gives a layout
    with word-wrapped text its preferred height instead, and scrolls much sooner)."""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidget(content)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        hint.setWidth(max(300, self.widget().minimumSizeHint().width()) + bar)
        return hint

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().eventFilter(watched, event)

    def _fit(self) -> None:
        content = self.widget()
        needed = content.minimumSizeHint().height()
        bar = 0 if needed <= self.height() else self.verticalScrollBar().sizeHint().width()
        content.resize(self.width() - bar, max(self.height(), needed))


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, inference: InferenceThread | None = None) -> None:
        super().__init__()
        self.setWindowTitle("faceapp — restore faces in your photos")
        self.setAcceptDrops(True)
        self.settings = settings
        self.inference = inference or InferenceThread(
            settings.device, settings.runtime, settings.precision
        )
        self.controls = controls_from(settings)
        self.documents = Documents(self.inference, self.controls)
        self.model_tasks = ModelTasks(self)
        self._dialogs: list = []  # non-modal dialogs kept alive while open
        self._pending_export: set[PhotoDoc] = set()
        self._build_widgets()
        self._build_actions()
        self._connect()
        self._restore_geometry()
        self._update_actions()

    # --- building --------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.photos = PhotoList()
        self.canvas = PhotoCanvas()
        self.errors = ErrorPanel()
        self.binding = CanvasBinding(self.canvas, self.documents)
        self.faces = FacesPanel()
        self.face_tools = FaceTools(self.documents)
        self.face_box = FaceBox(self.face_tools, self.faces)
        self.faces.layout().addWidget(self.face_box)
        self.controls_panel = ControlsPanel(self.controls)
        self.repair_tools = RepairTools(self.documents)
        self.repair_panel = RepairPanel(self.repair_tools, self.canvas.damage, self.controls)
        self.export_panel = ExportPanel(self.settings.export)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop restoring (Esc). Nothing is saved.")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setDefault(True)
        self.restore_button.setToolTip("Restore the chosen faces of this photo (Ctrl+R).")
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the restored photo (Ctrl+S). The original is kept.")
        self.saved_label = QLabel()
        self.saved_label.setOpenExternalLinks(True)
        self.setCentralWidget(self._splitter())
        self.statusBar().addPermanentWidget(self.saved_label)

    def _splitter(self) -> QSplitter:
        middle = QWidget()
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.errors)
        column.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        column.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.photos)
        splitter.addWidget(middle)
        splitter.addWidget(self._side_panel())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 900, 320])
        return splitter

    def _side_panel(self) -> QWidget:
        """The groups scroll on a short screen (instead of making the window taller than the
        screen); Restore and Save stay in sight below them."""
        groups = QWidget()
        layout = QVBoxLayout(groups)
        layout.setContentsMargins(0, 0, 4, 0)
        for title, widget, stretch in (
            ("Faces", self.faces, 1),
            ("Restoration", self.controls_panel, 0),
            ("Repair damage", self.repair_panel, 0),
            ("Saving", self.export_panel, 0),
        ):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(widget)
            layout.addWidget(box, stretch)
        scroll = _VerticalScroll(groups)
        side = QWidget()
        column = QVBoxLayout(side)
        column.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button, 1)
        buttons.addWidget(self.save_button, 1)
        column.addLayout(buttons)
        return side

    def _action(self, text: str, shortcut, tip: str, slot) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.open_action = self._action("Open…", key.Open, "Open photos", self.open_dialog)
        self.folder_action = self._action(
            "Open folder…", None, "Open every photo in a folder", self.open_folder_dialog
        )
        self.paste_action = self._action(
            "Paste", key.Paste, "Open the picture on the clipboard", self.paste
        )
        self.restore_action = self._action("Restore", "Ctrl+R", "Restore this photo", self.restore)
        self.close_photo_action = self._action(
            "Close photo", key.Close, "Remove this photo from the list", self.close_photo
        )
        self.cancel_action = self._action("Cancel", "Esc", "Stop restoring", self.cancel)
        self.save_action = self._action("Save…", key.Save, "Save the restored photo", self.save)
        self.export_all_action = self._action(
            "Export all", "Ctrl+Shift+S", "Restore and save every opened photo", self.export_all
        )
        self.models_action = self._action(
            "Models…", None, "Download, import or remove models", self.open_models
        )
        self.fit_action = self._action(
            "Fit", "Ctrl+0", "Show the whole photo", self.canvas.zoom_fit
        )
        self.actual_action = self._action(
            "100 %", "Ctrl+1", "One photo pixel per screen pixel", self.canvas.zoom_actual
        )
        self.zoom_in_action = self._action("Zoom in", key.ZoomIn, "Zoom in", self.canvas.zoom_in)
        self.zoom_out_action = self._action(
            "Zoom out", key.ZoomOut, "Zoom out", self.canvas.zoom_out
        )
        self.boxes_action = self._action(
            "Face boxes", "F", "Show or hide the numbered face outlines", self._toggle_boxes
        )
        self.boxes_action.setCheckable(True)
        self.boxes_action.setChecked(True)
        self.report_action = self._action(
            "Report a problem…", None, "Copy what helps us fix a problem", self.report_problem
        )
        self.log_action = self._action(
            "Open log folder", None, "Show the folder with faceapp's log", self.open_log_folder
        )
        self._build_menus()
        self._build_toolbar()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.open_action, self.folder_action, self.paste_action):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open recent")
        self._fill_recent()
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.export_all_action)
        file_menu.addAction(self.close_photo_action)
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence.StandardKey.Quit, self.close)
        photo = bar.addMenu("&Photo")
        for action in (self.restore_action, self.cancel_action):
            photo.addAction(action)
        photo.addSeparator()
        for action in self.repair_panel.actions_for_window():
            self.addAction(action)
            photo.addAction(action)
        view = bar.addMenu("&View")
        for action in (
            self.boxes_action,
            self.fit_action,
            self.actual_action,
            self.zoom_in_action,
            self.zoom_out_action,
        ):
            view.addAction(action)
        bar.addMenu("&Models").addAction(self.models_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.report_action)
        help_menu.addAction(self.log_action)

    def _build_toolbar(self) -> None:
        tools = QToolBar("Main")
        tools.setObjectName("main-toolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (
            self.open_action,
            self.paste_action,
            None,
            self.restore_action,
            self.save_action,
            self.export_all_action,
            None,
            self.boxes_action,
            self.fit_action,
            self.actual_action,
            None,
            self.models_action,
        ):
            tools.addSeparator() if action is None else tools.addAction(action)
        self.addToolBar(tools)

    def _connect(self) -> None:
        d = self.documents
        d.docAdded.connect(self.photos.add)
        d.currentChanged.connect(self._on_current)
        d.error.connect(self.show_error)
        d.progress.connect(self._on_progress)
        d.restoringChanged.connect(lambda _busy: self._update_actions())
        d.previewChanged.connect(self._on_restored)
        d.saved.connect(self._on_saved)
        d.faceAdded.connect(self._on_face_added)
        self.photos.docSelected.connect(d.set_current)
        self.photos.visibleChanged.connect(d.order.set_visible)
        self.faces.addFaceRequested.connect(self.canvas.set_add_face_mode)
        self.canvas.addFaceModeChanged.connect(self.faces.add_button.setChecked)
        self.controls.changed.connect(self._on_control)
        self.controls_panel.downloadRequested.connect(self.offer_download)
        self.inference.deviceReady.connect(self.controls_panel.set_device)
        self.model_tasks.modelsChanged.connect(self._on_models_changed)
        self.restore_button.clicked.connect(self.restore)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.cancel)
        self.face_box.compareRequested.connect(self.compare_models)

    def after_show(self, paths: list[Path]) -> None:
        """Once the window is on screen: load torch and the detector, open the given photos."""
        self.warm_up()
        if paths:
            self.open_paths(paths)
        if needs_first_run():
            self.offer_download()

    def warm_up(self) -> None:
        job = self.inference.submit("warm-up", lambda engine, _p, _c: engine.detector())
        job.failed.connect(lambda exc: self.show_error(report_from_exception(exc)))

    # --- opening ---------------------------------------------------------------------------

    def open_paths(self, paths: list[Path]) -> None:
        photos = [p for p in paths if Path(p).suffix.lower() not in MODEL_SUFFIXES]
        for model in [p for p in paths if Path(p).suffix.lower() in MODEL_SUFFIXES]:
            self.import_model(Path(model))
        for doc in self.documents.open_paths([Path(p) for p in photos]):
            if doc.path is not None:
                self.settings.add_recent(doc.path)
        self._fill_recent()

    def open_dialog(self) -> None:
        start = (
            str(Path(self.settings.recent_files[0]).parent) if self.settings.recent_files else ""
        )
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos", start, IMAGE_FILTER)
        self.open_paths([Path(f) for f in files])

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open every photo in a folder")
        if folder:
            self.open_paths([Path(folder)])

    def paste(self) -> None:
        clipboard = QApplication.clipboard()
        urls = [Path(u.toLocalFile()) for u in clipboard.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_paths(urls)
        elif not clipboard.image().isNull():
            self.documents.open_array(qimage_to_array(clipboard.image()))
        else:
            self.statusBar().showMessage("There is no picture on the clipboard.", 5000)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            self.recent_menu.addAction(path, lambda p=path: self.open_paths([Path(p)]))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_paths(urls)
        elif event.mimeData().hasImage():
            self.documents.open_array(qimage_to_array(event.mimeData().imageData()))
        event.acceptProposedAction()

    # --- restoring and saving --------------------------------------------------------------

    def restore(self) -> None:
        doc = self.documents.current
        if doc is not None and not self.documents.restoring():
            self.documents.restore([doc])
            self._update_actions()

    def close_photo(self) -> None:
        doc = self.documents.current
        if doc is not None:
            self.photos.remove(doc)
            self.documents.close(doc)

    def cancel(self) -> None:
        self._pending_export.clear()
        self.documents.cancel()

    def save(self) -> None:
        doc = self.documents.current
        if doc is None or doc.result is None or doc.photo is None:
            return
        self._export(doc)

    def export_all(self) -> None:
        for doc in self.documents.docs:
            if doc.photo is None and not self.documents.memory.released(doc):
                continue
            if doc.result is not None and not self.documents.stale(doc):
                self._export(doc)
            else:
                self._pending_export.add(doc)
                self.documents.restore([doc])
        self._update_actions()

    def _export(self, doc: PhotoDoc) -> None:
        try:
            target = target_for(doc.photo, doc.name, self.settings.export)
            self.documents.export(doc, target, self.export_panel.save_options())
        except Exception as exc:  # a name or folder problem: reported, nothing written
            self.show_error(report_from_exception(exc, doc.name))

    def _toggle_boxes(self) -> None:
        self.canvas.set_faces_visible(self.boxes_action.isChecked())

    def _on_restored(self, doc: PhotoDoc) -> None:
        if doc is self.documents.current and self.boxes_action.isChecked():
            self.boxes_action.setChecked(False)  # the result is what the user wants to see now
            self._toggle_boxes()
        if doc in self._pending_export:
            self._pending_export.discard(doc)
            self._export(doc)
        self._update_actions()

    def _on_saved(self, doc: PhotoDoc, path: Path) -> None:
        folder = QUrl.fromLocalFile(str(path.parent)).toString()
        self.saved_label.setText(f'Saved <a href="{folder}">{path.name}</a>')
        self.statusBar().showMessage(f"Saved {path}", 10000)

    def _on_progress(self, progress: Progress) -> None:
        self.progress.setValue(round(progress.fraction * 100))
        self.progress.setFormat(f"{progress.message}  %p%" if progress.message else "%p%")

    def _on_face_added(self, doc: PhotoDoc, face) -> None:
        if face is None:
            self.statusBar().showMessage(
                "No face found in that box. Try a box around the whole face.", 8000
            )

    def _on_control(self, name: str) -> None:
        doc = self.documents.current
        if name == "fidelity" and doc is not None and doc.result is not None:
            self.documents.restore([doc])  # only the network on the faces runs again
        self._update_actions()

    def _on_current(self, doc: PhotoDoc | None) -> None:
        self.boxes_action.setChecked(doc is None or doc.result is None)
        self._toggle_boxes()
        self.faces.bind(doc)
        self.face_box.bind(doc)
        self.photos.select(doc)
        self.controls_panel.show_colour(doc is not None and doc.black_and_white)
        if doc is not None:
            doc.changed.connect(self._update_actions, Qt.ConnectionType.UniqueConnection)
        self._update_actions()

    def _update_actions(self) -> None:
        doc = self.documents.current
        busy = self.documents.restoring()
        ready = doc is not None and doc.photo is not None and not doc.busy
        self.restore_action.setEnabled(ready and not busy)
        self.restore_button.setEnabled(ready and not busy)
        stale = doc is not None and doc.result is not None and self.documents.stale(doc)
        self.restore_button.setText("Restore again" if stale else "Restore")
        self.restore_button.setToolTip(
            "The faces or settings changed since the last restore: restore again to see them."
            if stale
            else "Restore the chosen faces of this photo (Ctrl+R)."
        )
        self.close_photo_action.setEnabled(doc is not None)
        saveable = doc is not None and doc.result is not None
        self.save_action.setEnabled(saveable)
        self.save_button.setEnabled(saveable)
        self.export_all_action.setEnabled(bool(self.documents.docs) and not busy)
        self.cancel_action.setEnabled(busy)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.progress.setValue(0)

    # --- models, errors, help --------------------------------------------------------------

    def show_error(self, report: ErrorReport) -> None:
        self.errors.show_error(report)

    def compare_models(self, doc: PhotoDoc, index: int, models=None) -> CompareDialog:
        """The selected face through every installed face model, side by side."""
        dialog = CompareDialog(self.face_tools, doc, index, models, self)
        self._keep(dialog)
        dialog.show()
        return dialog

    def open_models(self) -> ModelManagerDialog:
        dialog = ModelManagerDialog(self.model_tasks, self)
        self._keep(dialog)
        dialog.show()
        return dialog

    def offer_download(self, model_id: str | None = None) -> FirstRunDialog:
        """One model offered with its size, licence and folder: download, or import a file."""
        dialog = FirstRunDialog(self.model_tasks, self, model_id=model_id)
        if model_id is not None:
            dialog.accepted.connect(lambda: self._use_model(model_id))
        self._keep(dialog)
        dialog.show()
        return dialog

    def _keep(self, dialog) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))

    def _forget_dialog(self, dialog) -> None:
        # finished came twice for one Compare dialog in the screenshot run: forget it once
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)

    def _use_model(self, model_id: str) -> None:
        if model_store.installed_path(model_id) is not None:
            self.controls.set("model_id", model_id)
            self.controls_panel.sync()

    def import_model(self, path: Path) -> None:
        task = self.model_tasks.import_file(path)
        task.failed.connect(
            lambda _k, message, details: self.show_error(ErrorReport(message, details, path.name))
        )
        task.finished.connect(
            lambda _k, model_id, _p: self.statusBar().showMessage(
                f"Installed {path.name} as {model_id}.", 8000
            )
        )

    def _on_models_changed(self) -> None:
        current = installed_face_model(self.controls.model_id)
        if current is not None:
            self.controls.set("model_id", current)
        self.controls_panel.refresh_models()
        self.repair_panel.refresh_models()
        self.face_box.refresh()  # e.g. GPEN colour becomes available

    def report_problem(self) -> None:
        from faceapp.diagnostics import system_report

        QApplication.clipboard().setText(system_report(self.controls_panel.device.text()))
        QMessageBox.information(
            self,
            "Report a problem",
            "The version, your device and the last log lines were copied. Paste them into your "
            "message to us. No photo or personal file is included.",
        )

    def open_log_folder(self) -> None:
        from faceapp.core import paths

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))

    # --- closing ---------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        else:
            self.resize(1400, 860)

    def remember(self) -> None:
        s, c = self.settings, self.controls
        s.face_model, s.strength, s.fidelity, s.upscale = (
            c.model_id,
            c.strength,
            c.fidelity,
            c.upscale,
        )
        s.background = "lanczos" if c.background == "lanczos" else "model"
        s.background_model = None if c.background == "lanczos" else c.background
        s.colorize, s.colour_model, s.colour_strength = (
            c.colorize,
            c.colour_model,
            c.colour_strength,
        )
        s.repair, s.repair_method = c.repair, c.repair_method
        s.complete_faces = c.complete_faces
        s.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        s.welcome_seen = True

    def closeEvent(self, event) -> None:
        self.remember()
        try:
            save_settings(self.settings)
        except Exception as exc:  # never block quitting on a settings problem
            import logging

            logging.getLogger("faceapp.gui").warning("settings not saved: %s", exc)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every thread this window started (also used by tests)."""
        for dialog in list(self._dialogs):
            dialog.close()
        self.model_tasks.shutdown()
        self.inference.stop()
