"""Under the face list: the selected face's own model, strength and (black-and-white photos)
colour, "Compare models…", and the notice for photos faceapp already restored."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.photo.provenance import WARNING
from faceapp.gui.face_choices import FaceChoice
from faceapp.gui.face_tools import FaceTools
from faceapp.gui.faces_panel import FacesPanel
from faceapp.gui.state import PhotoDoc

_INDEX_ROLE = Qt.ItemDataRole.UserRole
COLOUR_MODEL = "gpen-colorization-1024"
COLOURS = (  # (text, FaceChoice.colour)
    ("Picture colour", None),
    ("GPEN colour", "gpen"),
    ("Keep grey", "grey"),
)
NEEDS_GPEN = "GPEN colour: install gpen-colorization-1024 (Models…)"  # one line: the box is short


class FaceBox(QWidget):
    compareRequested = Signal(object, int)  # PhotoDoc, face index

    def __init__(self, tools: FaceTools, faces: FacesPanel) -> None:
        super().__init__()
        self.tools, self.faces = tools, faces
        self.doc: PhotoDoc | None = None
        self.index: int | None = None
        self.notice = QLabel(WARNING)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: palette(highlighted-text); background: #b26b00;")
        self.notice.setContentsMargins(6, 4, 6, 4)
        self.title = QLabel()
        self.compare_button = QPushButton("Compare models…")
        self.compare_button.setToolTip(
            "Run every installed face model on this face and choose the result you prefer."
        )
        self.compare_button.clicked.connect(self._compare)
        self.model = QComboBox()
        self.model.setToolTip("The model for this face; the global one unless you choose.")
        self.model.setAccessibleName("This face's model")
        self.model.activated.connect(self._on_model)
        self.own = QCheckBox("Own strength")
        self.own.setToolTip("Give this face its own strength instead of the global one.")
        self.own.toggled.connect(self._on_strength)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setAccessibleName("This face's strength")
        self.strength.valueChanged.connect(self._on_strength)
        self._make_colour()
        self._build()
        faces.list.currentItemChanged.connect(self._on_item)
        self.bind(None)

    def _make_colour(self) -> None:
        self.colour = QComboBox()
        self.colour.setAccessibleName("This face's colour")
        self.colour.setToolTip(
            "Black-and-white photos: colour this face with GPEN (a face colorizer), let it "
            "take the picture's colour, or keep it grey. Takes effect on Restore."
        )
        for text, value in COLOURS:
            self.colour.addItem(text, value)
        self.colour.activated.connect(self._on_colour)
        self.colour_label = QLabel("Colour")
        self.colour_note = QLabel(NEEDS_GPEN)
        self.colour_note.setToolTip(
            "GPEN colour uses the GPEN-Colorization model (gpen-colorization-1024): install "
            "it from Models… to use it."
        )

    def _build(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.compare_button)
        model = QHBoxLayout()
        model.addWidget(QLabel("Model"))
        model.addWidget(self.model, 1)
        strength = QHBoxLayout()
        strength.addWidget(self.own)
        strength.addWidget(self.strength, 1)
        colour = QHBoxLayout()
        colour.addWidget(self.colour_label)
        colour.addWidget(self.colour, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notice)
        layout.addLayout(row)
        layout.addLayout(model)
        layout.addLayout(strength)
        layout.addLayout(colour)
        layout.addWidget(self.colour_note)

    def bind(self, doc: PhotoDoc | None) -> None:
        self.doc = doc
        restored = doc is not None and doc.photo is not None and doc.photo.restored_with
        self.notice.setVisible(bool(restored))
        self._show(None)

    def refresh(self) -> None:
        """Show the installed models again (the selected face's choices are kept)."""
        self._show(self.index)

    def _on_item(self, item: QListWidgetItem | None, _previous=None) -> None:
        self._show(None if item is None else item.data(_INDEX_ROLE))

    def _show(self, index: int | None) -> None:
        self.index = index
        enabled = self.doc is not None and index is not None
        for widget in (self.compare_button, self.model, self.own, self.strength, self.colour):
            widget.setEnabled(enabled)
        self.title.setText(f"Face {index + 1}" if enabled else "Select a face")
        choice = self.doc.choices.get(index, FaceChoice()) if enabled else FaceChoice()
        own = choice.strength is not None
        global_strength = self.tools.documents.controls.strength
        for widget in (self.own, self.strength):
            widget.blockSignals(True)
        self._fill_models(choice.model_id)
        self.own.setChecked(own)
        self.strength.setValue(round(100 * (choice.strength if own else global_strength)))
        self.strength.setEnabled(enabled and own)
        for widget in (self.own, self.strength):
            widget.blockSignals(False)
        self._show_colour(choice.colour)

    def _show_colour(self, current: str | None) -> None:
        """Only for black-and-white photos; GPEN colour only with its model installed."""
        grey_photo = self.doc is not None and self.doc.black_and_white
        installed = model_store.installed_path(COLOUR_MODEL) is not None
        gpen_row = self.colour.findData("gpen")
        self.colour.model().item(gpen_row).setEnabled(installed)
        self.colour.setCurrentIndex(max(self.colour.findData(current), 0))
        for widget in (self.colour_label, self.colour):
            widget.setVisible(grey_photo)
        self.colour_note.setVisible(grey_photo and not installed and self.index is not None)

    def _on_colour(self, _row: int) -> None:
        if self.doc is not None and self.index is not None:
            self.tools.set_face_colour(self.doc, self.index, self.colour.currentData())

    def _fill_models(self, current: str | None) -> None:
        self.model.clear()
        self.model.addItem("Same as all faces", None)
        entries = [e for e in catalog.catalog() if e.restores_faces]
        for entry in entries:
            if model_store.installed_file(entry) is not None:
                self.model.addItem(entry.name, entry.id)
        found = self.model.findData(current)
        self.model.setCurrentIndex(max(found, 0))

    def _on_model(self, _row: int) -> None:
        if self.doc is not None and self.index is not None:
            self.tools.set_face_model(self.doc, self.index, self.model.currentData())

    def _on_strength(self, *_args) -> None:
        if self.doc is None or self.index is None:
            return
        self.strength.setEnabled(self.own.isChecked())
        value = self.strength.value() / 100 if self.own.isChecked() else None
        self.tools.set_face_strength(self.doc, self.index, value)

    def _compare(self) -> None:
        if self.doc is not None and self.index is not None:
            self.compareRequested.emit(self.doc, self.index)
