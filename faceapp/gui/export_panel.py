"""How restored photos are saved: format, quality, metadata and where they go."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from faceapp.core.photo.reading import Photo
from faceapp.core.photo.writing import SaveOptions, output_path_for, resolve_format
from faceapp.settings import ExportSettings

FORMATS = (
    ("Same as the original", "auto"),
    ("JPEG", "jpg"),
    ("PNG (lossless)", "png"),
    ("WebP", "webp"),
    ("TIFF (lossless)", "tiff"),
)
NEXT_TO_ORIGINAL = "Next to the original"


class ExportPanel(QWidget):
    def __init__(self, settings: ExportSettings) -> None:
        super().__init__()
        self.settings = settings
        self.format = QComboBox()
        for text, value in FORMATS:
            self.format.addItem(text, value)
        self.format.setCurrentIndex(max(0, self.format.findData(settings.format)))
        self.format.setToolTip("The file type of the saved photo.")
        self.format.currentIndexChanged.connect(self._on_format)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(settings.quality)
        self.quality.setSuffix(" %")
        self.quality.setToolTip("JPEG and WebP quality: higher keeps more detail, bigger file.")
        self.quality.valueChanged.connect(lambda v: setattr(self.settings, "quality", v))
        self.metadata = QCheckBox("Keep date, camera and colour information")
        self.metadata.setChecked(settings.keep_metadata)
        self.metadata.setToolTip("Copies the original's EXIF data and colour profile.")
        self.metadata.toggled.connect(lambda on: setattr(self.settings, "keep_metadata", on))
        self.destination = QPushButton()
        self.destination.setToolTip("Where saved photos go. Originals are never overwritten.")
        self.destination.clicked.connect(self._choose_folder)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Save next to each original photo.")
        self.reset.clicked.connect(lambda: self._set_destination(None))
        self._layout()
        self._set_destination(settings.destination)

    def _layout(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Format", self.format)
        form.addRow("Quality", self.quality)
        form.addRow(self.metadata)
        row = QHBoxLayout()
        row.addWidget(self.destination, 1)
        row.addWidget(self.reset)
        form.addRow("Save to", row)

    def _on_format(self, _index: int) -> None:
        self.settings.format = self.format.currentData()
        self.quality.setEnabled(self.settings.format in ("auto", "jpg", "webp"))

    def _choose_folder(self) -> None:
        start = self.settings.destination or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Save restored photos in", start)
        if folder:
            self._set_destination(folder)

    def _set_destination(self, folder: str | None) -> None:
        self.settings.destination = folder
        self.destination.setText(Path(folder).name if folder else NEXT_TO_ORIGINAL)
        self.reset.setVisible(folder is not None)

    def save_options(self) -> SaveOptions:
        s = self.settings
        return SaveOptions(s.format, s.quality, s.keep_metadata, overwrite=False)


def target_for(photo: Photo, name: str, settings: ExportSettings) -> Path:
    """A free file name for the restored photo: never the original, never an existing file."""
    fmt = resolve_format(settings.format, photo.source_format)
    if photo.path is not None:
        folder = Path(settings.destination) if settings.destination else None
        return output_path_for(photo.path, folder, fmt, overwrite=False)
    folder = Path(settings.destination or platformdirs.user_pictures_dir())
    folder.mkdir(parents=True, exist_ok=True)
    return output_path_for(folder / f"{_safe(name)}.png", folder, fmt, overwrite=False)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in " -_" else "_" for c in name).strip() or "photo"
