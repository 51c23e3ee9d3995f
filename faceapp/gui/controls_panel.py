"""The settings that matter: model, strength, fidelity, background upscale, and the device."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QWidget
from superqt import QLabeledSlider

from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.gui.state import Controls

_ID = Qt.ItemDataRole.UserRole
COMPLETE_MODEL = "gpen-inpainting-1024"
FIDELITY_DELAY_MS = 400  # a new fidelity re-runs the network: wait until the slider rests


class ControlsPanel(QWidget):
    downloadRequested = Signal(str)  # a model id the user picked but has not installed

    def __init__(self, controls: Controls) -> None:
        super().__init__()
        self.controls = controls
        self.model = QComboBox()
        self.model.setToolTip("The restoration model. Installed models come first.")
        self.model.setAccessibleName("Face model")
        self.model.activated.connect(self._on_model)
        self.strength = _slider("How much of the restored face to show (0 = the original).")
        self.strength.valueChanged.connect(lambda v: controls.set("strength", v / 100))
        self.fidelity = _slider(
            "CodeFormer only: low = sharper, more invented detail; high = closer to the person."
        )
        self._fidelity_timer = _single_shot(FIDELITY_DELAY_MS, self._apply_fidelity)
        self.fidelity.valueChanged.connect(lambda _v: self._fidelity_timer.start())
        self.upscale = QComboBox()
        self.upscale.setToolTip("Make the whole photo larger.")
        for text, factor in (("Off", 1), ("×2", 2), ("×4", 4)):
            self.upscale.addItem(text, factor)
        self.upscale.currentIndexChanged.connect(
            lambda _i: controls.set("upscale", self.upscale.currentData())
        )
        self.background = QComboBox()
        self.background.setToolTip("How the rest of the photo is enlarged.")
        self.background.currentIndexChanged.connect(self._on_background)
        self._make_colour_controls(controls)
        self._make_completion_control(controls)
        self.device = QLabel("Starting…")
        self.device.setToolTip("Where restoration runs. A graphics card is much faster.")
        self._layout()
        self.refresh_models()
        self.sync()

    def _layout(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Model", self.model)
        form.addRow("Strength", self.strength)
        self.fidelity_label = QLabel("Fidelity")
        form.addRow(self.fidelity_label, self.fidelity)
        form.addRow("Upscale", self.upscale)
        self.background_label = QLabel("Enlarge with")
        form.addRow(self.background_label, self.background)
        self.colour_label = QLabel("Colour")
        form.addRow(self.colour_label, self.colorize)
        form.addRow("", self.colour_model)
        self.colour_strength_label = QLabel("Colour strength")
        form.addRow(self.colour_strength_label, self.colour_strength)
        self.colour_rows = (
            self.colour_label,
            self.colorize,
            self.colour_model,
            self.colour_strength_label,
            self.colour_strength,
        )
        form.addRow(self.complete_faces)
        form.addRow(self.complete_note)
        form.addRow("Runs on", self.device)
        self.black_and_white = False

    def _make_colour_controls(self, controls: Controls) -> None:
        self.colorize = QCheckBox("Colorize")
        self.colorize.setToolTip("Bring colour to a black-and-white photo (DDColor).")
        self.colorize.toggled.connect(self._on_colorize)
        self.colour_model = QComboBox()
        self.colour_model.setAccessibleName("Colour model")
        self.colour_model.activated.connect(
            lambda _i: controls.set("colour_model", self.colour_model.currentData())
        )
        self.colour_strength = _slider("How much colour to show (0 = grey). No re-run needed.")
        self.colour_strength.valueChanged.connect(
            lambda v: controls.set("colour_strength", v / 100)
        )

    def _make_completion_control(self, controls: Controls) -> None:
        self.complete_faces = QCheckBox("Complete damaged faces (GPEN)")
        self.complete_faces.setAccessibleName("Complete damaged faces (GPEN-Inpainting)")
        self.complete_faces.setToolTip(
            "GPEN-Inpainting: where the damage mask covers part of a face, it fills it in before "
            "the face is restored; the rest of the damage is repaired as usual."
        )
        self.complete_faces.toggled.connect(lambda on: controls.set("complete_faces", on))
        self.complete_note = QLabel(
            "Needs the GPEN-Inpainting model (gpen-inpainting-1024): install it from Models…"
        )
        self.complete_note.setWordWrap(True)

    def show_colour(self, black_and_white: bool) -> None:
        """The colour controls belong to black-and-white photos only."""
        self.black_and_white = black_and_white
        self._update_visibility()

    def refresh_models(self) -> None:
        """Installed face models first, the others with their size and a download hint."""
        entries = [e for e in catalog.catalog() if e.restores_faces]
        installed = [e for e in entries if model_store.installed_file(e)]
        others = [e for e in entries if e not in installed]
        self.model.blockSignals(True)
        self.model.clear()
        for entry in installed:
            self.model.addItem(
                entry.display_name + (" (recommended)" if entry.recommended else ""), entry.id
            )
        if installed and others:
            self.model.insertSeparator(self.model.count())
        for entry in others:
            self.model.addItem(f"{entry.display_name} — {_get_hint(entry)}", entry.id)
        self.model.blockSignals(False)
        self._refresh_backgrounds()
        self._refresh_colour_models()
        self.sync()

    def _refresh_backgrounds(self) -> None:
        self.background.blockSignals(True)
        self.background.clear()
        self.background.addItem("Smooth resize (fast)", "lanczos")
        for entry in catalog.catalog():
            if entry.purpose == catalog.BACKGROUND and model_store.installed_file(entry):
                self.background.addItem(entry.display_name, entry.id)
        self.background.blockSignals(False)

    def _refresh_colour_models(self) -> None:
        """Installed DDColor models only; none: the option says so and offers nothing."""
        self.colour_model.clear()
        for entry in catalog.catalog():
            if entry.purpose == catalog.COLOUR and model_store.installed_file(entry):
                self.colour_model.addItem(entry.display_name, entry.id)
        if self.colour_model.count() == 0:
            self.colour_model.addItem("No colour model installed (Models…)", None)
        if (
            self.controls.colour_model is None
            or self.colour_model.findData(self.controls.colour_model) < 0
        ):
            self.controls.set("colour_model", self.colour_model.itemData(0))

    def sync(self) -> None:
        """Show the values held by the Controls state."""
        c = self.controls
        _select(self.model, c.model_id)
        self.strength.setValue(round(c.strength * 100))
        self.fidelity.blockSignals(True)
        self.fidelity.setValue(round(c.fidelity * 100))
        self.fidelity.blockSignals(False)
        _select(self.upscale, c.upscale)
        self.colorize.setChecked(c.colorize)
        _select(self.colour_model, c.colour_model)
        self.colour_strength.setValue(round(c.colour_strength * 100))
        self.complete_faces.setChecked(c.complete_faces)
        if not _select(self.background, c.background):
            self.background.setCurrentIndex(0)
        self._update_visibility()

    def _update_visibility(self) -> None:
        has_fidelity = _entry(self.controls.model_id) is not None and bool(
            _entry(self.controls.model_id).has_fidelity
        )
        self.fidelity.setVisible(has_fidelity)
        self.fidelity_label.setVisible(has_fidelity)
        upscaling = self.controls.upscale > 1
        self.background.setEnabled(upscaling)
        self.background_label.setEnabled(upscaling)
        for widget in self.colour_rows:
            widget.setVisible(self.black_and_white)
        usable = self.colour_model.currentData() is not None
        self.colorize.setEnabled(usable)
        self.colour_model.setEnabled(usable)
        self.colour_strength.setEnabled(usable and self.controls.colorize)
        completes = model_store.installed_path(COMPLETE_MODEL) is not None
        self.complete_faces.setEnabled(completes)
        self.complete_note.setVisible(not completes)
        if not completes and self.controls.complete_faces:
            self.complete_faces.setChecked(False)

    def _on_model(self, index: int) -> None:
        model_id = self.model.itemData(index)
        if model_id is None:
            return
        if model_store.installed_path(model_id) is None:
            _select(self.model, self.controls.model_id)  # stay on the installed one for now
            self.downloadRequested.emit(model_id)
            return
        self.controls.set("model_id", model_id)
        self._update_visibility()

    def _on_colorize(self, on: bool) -> None:
        self.controls.set("colorize", on)
        self._update_visibility()

    def _on_background(self, _index: int) -> None:
        value = self.background.currentData()
        if value is not None:
            self.controls.set("background", value)

    def _apply_fidelity(self) -> None:
        self.controls.set("fidelity", self.fidelity.value() / 100)

    def set_device(self, text: str) -> None:
        self.device.setText(text)


def _entry(model_id: str) -> catalog.CatalogEntry | None:
    try:
        return catalog.get_entry(model_id)
    except catalog.CatalogError:
        return None


def _get_hint(entry: catalog.CatalogEntry) -> str:
    if not entry.downloadable:
        return "import a file"
    size = f" ({entry.size / 1e6:.0f} MB)" if entry.size else ""
    return f"download{size}"


def _select(combo: QComboBox, value: object) -> bool:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


def _slider(tip: str) -> QLabeledSlider:
    slider = QLabeledSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setToolTip(tip)
    return slider


def _single_shot(ms: int, slot) -> QTimer:
    timer = QTimer()
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer
