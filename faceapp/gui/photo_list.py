"""The strip of opened photos: a thumbnail, the name and a status per photo.

Thumbnails are made lazily, one per turn of the event loop and only for the rows in view,
from the file's own EXIF thumbnail or a shrunk JPEG decode: opening 500 photos decodes none
of them whole here. The rows in view are announced (visibleChanged) so their faces are
looked for before the others'.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap, QResizeEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from faceapp.core.photo.thumbnail import read_thumbnail
from faceapp.gui.qimage import array_to_qimage
from faceapp.gui.state import PhotoDoc, Status
from faceapp.gui.thumbnails import photo_icon

_DOC_ROLE = Qt.ItemDataRole.UserRole
_TRIED_ROLE = Qt.ItemDataRole.UserRole + 1  # a thumbnail was made, or could not be
THUMBNAIL_SIDE = 96


class PhotoList(QListWidget):
    docSelected = Signal(object)  # PhotoDoc
    visibleChanged = Signal(list)  # the PhotoDocs whose rows are in view

    def __init__(self) -> None:
        super().__init__()
        self.setIconSize(QSize(72, 72))
        self.setMinimumWidth(200)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)  # no per-row measuring with hundreds of photos
        self.setAccessibleName("Opened photos")
        self.setToolTip("The photos you opened. Click one to work on it.")
        self.currentItemChanged.connect(self._on_current)
        self._view_moved = _single_shot(self, 30, self._on_view_moved)
        self._thumbnails = _single_shot(self, 0, self._next_thumbnail)
        self.verticalScrollBar().valueChanged.connect(self._view_moved.start)

    def add(self, doc: PhotoDoc) -> None:
        item = QListWidgetItem()
        item.setData(_DOC_ROLE, doc)
        self.addItem(item)
        doc.changed.connect(lambda: self._refresh(item, doc))
        self._refresh(item, doc)
        self._view_moved.start()

    def select(self, doc: PhotoDoc | None) -> None:
        for row in range(self.count()):
            if self.item(row).data(_DOC_ROLE) is doc:
                self.setCurrentRow(row)
                return

    def remove(self, doc: PhotoDoc) -> None:
        for row in range(self.count()):
            if self.item(row).data(_DOC_ROLE) is doc:
                self.takeItem(row)
                self._view_moved.start()
                return

    def visible_docs(self) -> list[PhotoDoc]:
        return [item.data(_DOC_ROLE) for item in self._visible_items()]

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._view_moved.start()

    def _visible_items(self) -> list[QListWidgetItem]:
        view = self.viewport().rect()
        top = self.indexAt(view.topLeft()).row()
        if top < 0:
            return []
        bottom = self.indexAt(view.bottomLeft()).row()
        bottom = self.count() - 1 if bottom < 0 else bottom
        return [self.item(row) for row in range(top, bottom + 1)]

    def _on_view_moved(self) -> None:
        self.visibleChanged.emit(self.visible_docs())
        self._thumbnails.start()

    def _next_thumbnail(self) -> None:
        """One thumbnail, then the next on the next turn: the window stays responsive."""
        for item in self._visible_items():
            if not item.data(_TRIED_ROLE):
                item.setData(_TRIED_ROLE, True)
                icon = _thumbnail(item.data(_DOC_ROLE))
                if icon is not None:
                    item.setIcon(icon)
                self._thumbnails.start()
                return

    def _refresh(self, item: QListWidgetItem, doc: PhotoDoc) -> None:
        item.setText(f"{doc.name}\n{doc.status_text}")
        item.setToolTip(f"{doc.path or doc.name}\n{doc.status_text}")
        if doc.path is None and doc.photo is not None and item.icon().isNull():
            item.setIcon(photo_icon(doc.photo.pixels))  # pasted: no file to read it from
        failed = doc.status is Status.FAILED
        item.setForeground(self.palette().brush(self.palette().ColorRole.Text))
        if failed:
            item.setForeground(Qt.GlobalColor.red)

    def _on_current(self, item: QListWidgetItem | None, _previous) -> None:
        if item is not None:
            self.docSelected.emit(item.data(_DOC_ROLE))


def _thumbnail(doc: PhotoDoc) -> QIcon | None:
    if doc.path is None:
        return None
    try:
        pixels = read_thumbnail(doc.path, THUMBNAIL_SIDE)
    except Exception:  # the photo's own read reports what is wrong with the file
        return None
    return QIcon(QPixmap.fromImage(array_to_qimage(pixels)))


def _single_shot(parent, interval_ms: int, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer
