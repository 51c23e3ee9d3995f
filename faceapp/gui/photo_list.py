"""The strip of opened photos: a thumbnail, the name and a status per photo."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from faceapp.gui.state import PhotoDoc, Status
from faceapp.gui.thumbnails import photo_icon

_DOC_ROLE = Qt.ItemDataRole.UserRole


class PhotoList(QListWidget):
    docSelected = Signal(object)  # PhotoDoc

    def __init__(self) -> None:
        super().__init__()
        self.setIconSize(QSize(72, 72))
        self.setMinimumWidth(200)
        self.setWordWrap(True)
        self.setAccessibleName("Opened photos")
        self.setToolTip("The photos you opened. Click one to work on it.")
        self.currentItemChanged.connect(self._on_current)

    def add(self, doc: PhotoDoc) -> None:
        item = QListWidgetItem()
        item.setData(_DOC_ROLE, doc)
        self.addItem(item)
        doc.changed.connect(lambda: self._refresh(item, doc))
        self._refresh(item, doc)

    def select(self, doc: PhotoDoc | None) -> None:
        for row in range(self.count()):
            if self.item(row).data(_DOC_ROLE) is doc:
                self.setCurrentRow(row)
                return

    def remove(self, doc: PhotoDoc) -> None:
        for row in range(self.count()):
            if self.item(row).data(_DOC_ROLE) is doc:
                self.takeItem(row)
                return

    def _refresh(self, item: QListWidgetItem, doc: PhotoDoc) -> None:
        item.setText(f"{doc.name}\n{doc.status_text}")
        item.setToolTip(f"{doc.path or doc.name}\n{doc.status_text}")
        if doc.photo is not None and item.icon().isNull():
            item.setIcon(photo_icon(doc.photo.pixels))
        failed = doc.status is Status.FAILED
        item.setForeground(self.palette().brush(self.palette().ColorRole.Text))
        if failed:
            item.setForeground(Qt.GlobalColor.red)

    def _on_current(self, item: QListWidgetItem | None, _previous) -> None:
        if item is not None:
            self.docSelected.emit(item.data(_DOC_ROLE))
