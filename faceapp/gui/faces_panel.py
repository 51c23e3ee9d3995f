"""The face list: a thumbnail per face to include or leave out, and quick selections."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.faces.selection import is_small
from faceapp.gui.face_choices import face_caption
from faceapp.gui.state import PhotoDoc
from faceapp.gui.thumbnails import before_after_icon, face_icon

_INDEX_ROLE = Qt.ItemDataRole.UserRole
SMALL_HINT = "This face is small: restoring it may not help much."


class FacesPanel(QWidget):
    addFaceRequested = Signal(bool)  # the "Add a face" button toggled

    def __init__(self) -> None:
        super().__init__()
        self.doc: PhotoDoc | None = None
        self.summary = QLabel("Open a photo to see its faces.")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(72, 72))  # 2:1 before/after pairs once restored
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSpacing(4)
        self.list.setMinimumHeight(72 + 48)  # one row of faces with their labels, always
        self.list.setAccessibleName("Faces")
        self.list.itemChanged.connect(self._on_item_changed)
        self.add_button = _button("Add a face", "Draw a box around a face that was not found.")
        self.add_button.setCheckable(True)
        self.add_button.toggled.connect(self.addFaceRequested.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(self._buttons())

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for text, tip, slot in (
            ("All", "Restore every face.", self.select_all),
            ("None", "Restore no face.", self.select_none),
            ("Largest", "Restore only the largest face.", self.select_largest),
        ):
            button = _button(text, tip)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addWidget(self.add_button)
        return row

    def bind(self, doc: PhotoDoc | None) -> None:
        if self.doc is not None:
            self.doc.changed.disconnect(self.refresh)
        self.doc = doc
        if doc is not None:
            doc.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        doc = self.doc
        self.list.blockSignals(True)
        current = self.list.currentRow()
        self.list.clear()
        paired = doc is not None and doc.result is not None
        self.list.setIconSize(QSize(150, 72) if paired else QSize(72, 72))
        if doc is not None and doc.photo is not None:
            for face in doc.faces:
                self.list.addItem(self._item(doc, face))
            if 0 <= current < self.list.count():
                self.list.setCurrentRow(current)
        self.list.blockSignals(False)
        self.summary.setText(_summary(doc))

    def _item(self, doc: PhotoDoc, face) -> QListWidgetItem:
        quality, choice = doc.qualities.get(face.index), doc.choices.get(face.index)
        caption = face_caption(face.index + 1, quality, choice)
        small = is_small(face) and (quality is None or quality.label != "tiny")
        item = QListWidgetItem(caption + (" (small)" if small else ""))
        item.setData(_INDEX_ROLE, face.index)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        included = face.index not in doc.excluded
        item.setCheckState(Qt.CheckState.Checked if included else Qt.CheckState.Unchecked)
        restored = _restored(doc, face.index)
        if restored is not None:
            item.setIcon(before_after_icon(restored.crop, restored.patch.restored))
            item.setToolTip(f"Face {face.index + 1}: before and after")
        else:
            item.setIcon(face_icon(doc.photo.pixels, face))
            item.setToolTip(_tooltip(face, quality))
        return item

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self.doc is None:
            return
        index = item.data(_INDEX_ROLE)
        included = item.checkState() == Qt.CheckState.Checked
        if included == (index in self.doc.excluded):
            self.doc.toggle(index)

    def select_all(self) -> None:
        if self.doc:
            self.doc.set_included({f.index for f in self.doc.faces})

    def select_none(self) -> None:
        if self.doc:
            self.doc.set_included(set())

    def select_largest(self) -> None:
        if self.doc and self.doc.faces:
            self.doc.set_included({max(self.doc.faces, key=lambda f: f.size).index})


def _restored(doc: PhotoDoc, index: int):
    if doc.result is None:
        return None
    return next((r for r in doc.result.restored if r.face.index == index), None)


def _tooltip(face, quality) -> str:
    if quality is not None:
        return f"Face {face.index + 1}: {quality.reason}"
    return SMALL_HINT if is_small(face) else f"Face {face.index + 1}"


def _summary(doc: PhotoDoc | None) -> str:
    if doc is None or doc.photo is None:
        return "Open a photo to see its faces."
    total, chosen = len(doc.faces), len(doc.included_faces())
    if total == 0:
        return "No faces found. Use “Add a face” to draw a box around one."
    small = len(doc.small_faces())
    note = f" {small} {'is' if small == 1 else 'are'} small." if small else ""
    sharp = sum(1 for q in doc.qualities.values() if not q.needs_restoring)
    if sharp:
        note += f" {sharp} already sharp."
    return f"{chosen} of {total} faces will be restored. Click a face to change.{note}"


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button
