"""Keeps the photo canvas showing the current photo: its faces, and the restored preview."""

from __future__ import annotations

import time

import cv2
from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QImage

from faceapp.core.faces.selection import is_small
from faceapp.gui.documents import Documents
from faceapp.gui.photo_canvas import FaceMark, PhotoCanvas
from faceapp.gui.qimage import array_to_qimage, borrowed_qimage
from faceapp.gui.state import PhotoDoc

WELCOME = "Drop photos here, or click Open…\n\nfaceapp finds the faces and restores them."


class CanvasBinding(QObject):
    previewUpdated = Signal(float)  # seconds to hand the canvas a new strength (it blends on paint)

    def __init__(self, canvas: PhotoCanvas, documents: Documents) -> None:
        super().__init__()
        self.canvas = canvas
        self.documents = documents
        self.doc: PhotoDoc | None = None
        self._shown_photo = None
        canvas.set_placeholder(WELCOME)
        canvas.faceClicked.connect(self._on_face_clicked)
        canvas.faceBoxDrawn.connect(self._on_box)
        documents.currentChanged.connect(self.show)
        documents.previewChanged.connect(self._on_preview)
        documents.controls.changed.connect(self._on_control)

    def show(self, doc: PhotoDoc | None) -> None:
        if self.doc is not None:
            self.doc.changed.disconnect(self._on_doc_changed)
        self.doc = doc
        if doc is not None:
            doc.changed.connect(self._on_doc_changed)
        self._shown_photo = None  # shows the photo and its preview once, in _on_doc_changed
        self._on_doc_changed()

    def _on_doc_changed(self) -> None:
        doc = self.doc
        if doc is None or doc.photo is None:
            self.canvas.clear()
            return
        if self._shown_photo is not doc.photo:
            self._shown_photo = doc.photo
            self.canvas.set_before(array_to_qimage(doc.photo.pixels))
            self.refresh_after()
        self.canvas.set_faces([_mark(doc, f) for f in doc.faces])

    def refresh_after(self) -> None:
        doc = self.doc
        image = self.documents.render_preview(doc) if doc is not None else None
        if image is None:
            self.canvas.set_after(None)
            return
        source = PreviewLevels(doc.compositor, self.documents.controls.strength)
        self.canvas.set_after(array_to_qimage(image), source)

    def _on_preview(self, doc: PhotoDoc) -> None:
        if doc is self.doc:
            self.refresh_after()
            self._on_doc_changed()

    def _on_control(self, name: str) -> None:
        if name not in ("strength", "colour_strength"):
            return
        if self.doc is None or self.doc.compositor is None:
            return
        if hasattr(self.doc.compositor, "colour_strength"):  # re-blend the kept colour
            self.doc.compositor.colour_strength = self.documents.controls.colour_strength
        started = time.perf_counter()
        # only the face regions change, and only at the level the canvas paints (lazily)
        strength = self.documents.controls.strength
        self.canvas.update_after(PreviewLevels(self.doc.compositor, strength))
        self.previewUpdated.emit(time.perf_counter() - started)

    def _on_face_clicked(self, number: int) -> None:
        if self.doc is not None:
            self.doc.toggle(number - 1)

    def _on_box(self, box: tuple[float, float, float, float]) -> None:
        if self.doc is not None:
            self.documents.add_face_in_box(self.doc, box)


class PreviewLevels:
    """The restored preview at one strength, as the canvas asks for it: blended at the level
    of detail being painted (the full size only when zoomed in). A compositor without levels
    (the per-face one, core.face_preview) is blended at full size and shrunk."""

    def __init__(self, compositor, strength: float) -> None:
        self.compositor = compositor
        self.strength = strength
        self._levels = hasattr(compositor, "regions_at")

    def image(self, level: int) -> QImage:
        # borrows the compositor's buffer, which lives as long as the photo's result
        if self._levels:
            return borrowed_qimage(self.compositor.render(self.strength, level))
        display = self.compositor.render(self.strength)
        if level:
            height, width = display.shape[:2]
            size = (max(1, width >> level), max(1, height >> level))
            display = cv2.resize(display, size, interpolation=cv2.INTER_AREA)
        return array_to_qimage(display)

    def changed(self, level: int) -> list[QRect]:
        if self._levels:
            regions = self.compositor.regions_at(level)
        else:
            step = 1 << level
            regions = [
                (x0 >> level, y0 >> level, (x1 + step - 1) >> level, (y1 + step - 1) >> level)
                for x0, y0, x1, y1 in self.compositor.regions
            ]
        return [QRect(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in regions]


def _mark(doc: PhotoDoc, face) -> FaceMark:
    return FaceMark(
        number=face.index + 1,
        box=tuple(float(v) for v in face.box),
        included=face.index not in doc.excluded,
        too_small=is_small(face),
        manual=face.manual,
    )
