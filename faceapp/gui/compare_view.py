"""Compare models on one face: the face as it is and each model's result side by side, large
enough to judge the eyes; click a result to use it for that face."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceapp.gui.face_tools import FaceTools
from faceapp.gui.qimage import array_to_qimage
from faceapp.gui.state import PhotoDoc
from faceapp.gui.thumbnails import face_crop

MIN_TILE, MAX_TILE, TILE = 256, 768, 256
COLUMNS = 4


class CompareDialog(QDialog):
    chosen = Signal(object)  # the CandidateResult used for the face

    def __init__(
        self, tools: FaceTools, doc: PhotoDoc, index: int, models=None, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare models — face {index + 1}")
        self.tools, self.doc, self.index = tools, doc, index
        self.tiles: list[QToolButton] = []
        self.sources: dict[int, np.ndarray] = {}  # id(tile) -> its face, float RGB
        self.results: list = []
        self._build()
        crop = face_crop(doc.photo.pixels, _face(doc, index))  # until the aligned one comes
        self._add_tile(crop.astype(np.float32) / np.iinfo(crop.dtype).max, "Original")
        self.job = tools.compare(doc, index, models)
        self.job.progress.connect(self._on_progress)
        self.job.cancelled.connect(lambda: self._stopped("Cancelled."))
        self.job.failed.connect(lambda _exc: self._stopped("The comparison failed."))
        tools.compared.connect(self._on_compared)
        self.resize(4 * TILE + 120, 2 * TILE + 200)

    def _build(self) -> None:
        self.hint = QLabel("Running each installed face model on this face…")
        self.progress = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.job.cancel())
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_TILE, MAX_TILE)
        self.size_slider.setValue(TILE)
        self.size_slider.setToolTip("Size of each face (Ctrl + wheel)")
        self.size_slider.valueChanged.connect(self._resize_tiles)
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(QLabel("Size"))
        top.addWidget(self.size_slider)
        self.grid = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.grid)
        self.scroll = QScrollArea()
        self.scroll.setWidget(holder)
        self.scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(top)
        layout.addWidget(self.scroll, 1)

    def _add_tile(self, face: np.ndarray, label: str, result=None) -> QToolButton:
        button = QToolButton()
        self._set_pixels(button, face)
        button.setText(label)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setAutoRaise(True)
        if result is None:
            button.setToolTip("The face as it is now")
        else:
            button.setToolTip(f"Use {label} for this face")
            button.clicked.connect(lambda: self.use(result))
        count = len(self.tiles)
        self.grid.addWidget(button, count // COLUMNS, count % COLUMNS)
        self.tiles.append(button)
        return button

    def _set_pixels(self, button: QToolButton, face: np.ndarray) -> None:
        """Shown at the tile's size (icons never grow their pixmaps themselves)."""
        self.sources[id(button)] = face
        side = self.size_slider.value()
        interpolation = cv2.INTER_AREA if face.shape[0] > side else cv2.INTER_CUBIC
        pixels = cv2.resize(face, (side, side), interpolation=interpolation)
        pixels = np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)
        button.setIcon(QIcon(QPixmap.fromImage(array_to_qimage(pixels))))
        button.setIconSize(QSize(side, side))

    def _on_progress(self, progress) -> None:
        self.progress.setValue(round(progress.fraction * 100))
        self.progress.setFormat(progress.message)

    def _on_compared(self, doc: PhotoDoc, index: int, results: list) -> None:
        if doc is not self.doc or index != self.index or self.results:
            return
        self.results = results
        if results:  # the face as the models saw it: aligned like their results
            self._set_pixels(self.tiles[0], results[0].restored.crop)
        for result in results:
            self._add_tile(result.restored.patch.restored, result.candidate.label, result)
        self._stopped("Click a result to use it for this face.")
        self.progress.setValue(100)

    def _stopped(self, message: str) -> None:
        self.hint.setText(message)
        self.cancel_button.setEnabled(False)

    def use(self, result) -> None:
        """Use this candidate for the face: its cached result, no second inference."""
        self.tools.use_candidate(self.doc, self.index, result)
        self.chosen.emit(result)
        self.accept()

    def _resize_tiles(self, _side: int) -> None:
        for tile in self.tiles:
            self._set_pixels(tile, self.sources[id(tile)])

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 32 if event.angleDelta().y() > 0 else -32
            self.size_slider.setValue(self.size_slider.value() + step)
            event.accept()
            return
        super().wheelEvent(event)

    def done(self, result: int) -> None:
        self.job.cancel()  # closing stops a comparison still running; a finished one is kept
        self.tools.compared.disconnect(self._on_compared)
        super().done(result)


def _face(doc: PhotoDoc, index: int):
    return next(f for f in doc.faces if f.index == index)
