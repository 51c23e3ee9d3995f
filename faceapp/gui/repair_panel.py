"""The Repair section of the side panel: mark the damage (brush, eraser, "Find scratches and
dust", undo, redo, clear, show it) and choose whether and how it is repaired on Restore."""

from __future__ import annotations

import cv2
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
)
from superqt import QLabeledSlider

from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.gui.damage_mask import DamageMask
from faceapp.gui.damage_painter import BRUSH, ERASER, DamagePainter
from faceapp.gui.photo_jobs import COMPLETE_MODEL
from faceapp.gui.repair_tools import RepairTools
from faceapp.gui.state import Controls, Status

QUICK_FIX = "opencv"
MAX_BRUSH = 300  # photo pixels
SIZE_STEP = 1.25  # [ and ] make the brush this much smaller or larger


class RepairPanel(QWidget):
    def __init__(self, tools: RepairTools, painter: DamagePainter, controls: Controls) -> None:
        super().__init__()
        self.tools, self.painter, self.controls = tools, painter, controls
        self.mask: DamageMask | None = None
        self._make_actions()
        self._make_widgets()
        self._layout()
        painter.toolChanged.connect(self._on_tool)
        tools.currentMask.connect(self._on_current)
        tools.maskChanged.connect(lambda _doc: self._update())
        tools.finding.connect(self._on_finding)
        tools.found.connect(lambda _doc: self.show_action.setChecked(True))
        self.refresh_models()
        self._update()

    def _action(self, text: str, shortcut: str | None, tip: str, slot, checkable=False):
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            tip = f"{tip} ({QKeySequence(shortcut).toString()})"
        action.setToolTip(tip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _make_actions(self) -> None:
        self.brush_action = self._action(
            "Brush", "B", "Paint over scratches, dust and tears to mark them", self._on_brush, True
        )
        self.eraser_action = self._action(
            "Eraser", "E", "Take marks off where nothing is damaged", self._on_eraser, True
        )
        self.show_action = self._action(
            "Show damage",
            "D",
            "Show the marked damage in red over the photo",
            self.painter.set_shown,
            True,
        )
        self.redo_action = self._action(
            "Redo",
            QKeySequence(QKeySequence.StandardKey.Redo).toString(),
            "Put back the last change undone",
            self.redo,
        )
        self.undo_action = self._action(
            "Undo",
            QKeySequence(QKeySequence.StandardKey.Undo).toString(),
            "Undo the last change to the damage marks",
            self.undo,
        )
        self.find_action = self._action(
            "Find scratches and dust",
            None,
            "Mark thin lines, cracks and specks found in the photo itself (faces are left "
            "out: the face model repairs them). Check the marks before restoring.",
            self.find,
        )
        self.smaller_action = self._action("Smaller brush", "[", "Smaller brush", self._smaller)
        self.larger_action = self._action("Larger brush", "]", "Larger brush", self._larger)

    def actions_for_window(self) -> list[QAction]:
        return [
            self.brush_action,
            self.eraser_action,
            self.show_action,
            self.undo_action,
            self.redo_action,
            self.find_action,
            self.smaller_action,
            self.larger_action,
        ]

    def _make_widgets(self) -> None:
        self.brush, self.eraser, self.undo_button, self.redo_button = (
            _tool_button(a)
            for a in (self.brush_action, self.eraser_action, self.undo_action, self.redo_action)
        )
        self.show_damage = QCheckBox("Show damage")
        self.show_damage.setToolTip(self.show_action.toolTip())
        self.show_damage.toggled.connect(self.show_action.setChecked)
        self.show_action.toggled.connect(self.show_damage.setChecked)
        self.size = QLabeledSlider(Qt.Orientation.Horizontal)
        self.size.setRange(1, MAX_BRUSH)
        self.size.setValue(round(self.painter.size))
        self.size.setToolTip("Brush size in photo pixels ([ and ] change it)")
        self.size.valueChanged.connect(self.painter.set_size)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Take every damage mark off this photo (Undo brings back)")
        self.clear_button.clicked.connect(self.clear)
        self.find_button = QPushButton(self.find_action.text())
        self.find_button.setToolTip(self.find_action.toolTip())
        self.find_button.clicked.connect(self.find_action.trigger)
        self.find_progress = QProgressBar()
        self.find_progress.setRange(0, 0)  # one step: busy until it ends
        self.find_cancel = QPushButton("Cancel")
        self.find_cancel.clicked.connect(self.tools.cancel)
        self.summary = QLabel()
        self.repair = QCheckBox("Repair with")
        self.repair.setToolTip(
            "Fill in the marked damage when restoring (it runs on Restore, before the faces)."
        )
        self.repair.toggled.connect(lambda on: self.controls.set("repair", on))
        self.method = QComboBox()
        self.method.setAccessibleName("Repair method")
        self.method.activated.connect(
            lambda _i: self.controls.set("repair_method", self.method.currentData())
        )
        self.complete_faces = QCheckBox("Complete damaged faces (GPEN)")
        self.complete_faces.setAccessibleName("Complete damaged faces (GPEN-Inpainting)")
        self.complete_faces.setToolTip(
            "GPEN-Inpainting: where the marked damage covers part of a face, it fills it in "
            "before the face is restored; the rest of the marked damage is repaired as usual "
            "(with the quick fix when Repair is off)."
        )
        self.complete_faces.toggled.connect(lambda on: self.controls.set("complete_faces", on))
        self.complete_note = QLabel(
            "Needs the GPEN-Inpainting model (gpen-inpainting-1024): install it from Models…"
        )
        self.complete_note.setWordWrap(True)

    def _layout(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        tools = QHBoxLayout()
        for button in (self.brush, self.eraser, self.undo_button, self.redo_button):
            tools.addWidget(button)
        tools.addWidget(self.clear_button)
        grid.addLayout(tools, 0, 0, 1, 2)
        grid.addWidget(QLabel("Brush size"), 1, 0)
        grid.addWidget(self.size, 1, 1)
        grid.addWidget(self.find_button, 2, 0, 1, 2)
        finding = QHBoxLayout()
        finding.addWidget(self.find_progress, 1)
        finding.addWidget(self.find_cancel)
        grid.addLayout(finding, 3, 0, 1, 2)
        shown = QHBoxLayout()
        shown.addWidget(self.summary, 1)
        shown.addWidget(self.show_damage)
        grid.addLayout(shown, 4, 0, 1, 2)
        grid.addWidget(self.repair, 5, 0)
        grid.addWidget(self.method, 5, 1)
        grid.addWidget(self.complete_faces, 6, 0, 1, 2)
        grid.addWidget(self.complete_note, 7, 0, 1, 2)
        self._on_finding(None)

    def refresh_models(self) -> None:
        """The built-in quick fix, and every installed LaMa model."""
        self.method.clear()
        self.method.addItem("Quick fix (built-in)", QUICK_FIX)
        for entry in catalog.catalog():
            if entry.purpose == catalog.INPAINT and model_store.installed_file(entry):
                self.method.addItem(entry.display_name, entry.id)
        if self.method.findData(self.controls.repair_method) < 0:
            self.controls.set("repair_method", QUICK_FIX)
        self.method.setCurrentIndex(self.method.findData(self.controls.repair_method))
        self.method.setToolTip(
            "Quick fix: built in, good for thin scratches and dust. LaMa: better on wide "
            "damage (Models… → LaMa)."
        )
        self._refresh_completion()

    def _refresh_completion(self) -> None:
        completes = model_store.installed_path(COMPLETE_MODEL) is not None
        if not completes and self.controls.complete_faces:
            self.controls.set("complete_faces", False)
        self.complete_faces.setEnabled(completes)
        self.complete_faces.setChecked(self.controls.complete_faces)
        self.complete_note.setVisible(not completes)

    # --- doing -----------------------------------------------------------------------------

    def undo(self) -> None:
        if self.mask is not None:
            self.mask.undo()

    def redo(self) -> None:
        if self.mask is not None:
            self.mask.redo()

    def clear(self) -> None:
        if self.mask is not None:
            self.mask.clear()

    def find(self) -> None:
        if self.mask is not None:
            self.tools.find_scratches(self.mask.doc)

    def _on_brush(self, on: bool) -> None:
        if on:
            self.painter.set_tool(BRUSH)
        elif self.painter.tool == BRUSH:
            self.painter.set_tool("")

    def _on_eraser(self, on: bool) -> None:
        if on:
            self.painter.set_tool(ERASER)
        elif self.painter.tool == ERASER:
            self.painter.set_tool("")

    def _on_tool(self, tool: str) -> None:
        """The canvas put the tool down (Esc), or another was picked."""
        for action, name in ((self.brush_action, BRUSH), (self.eraser_action, ERASER)):
            action.blockSignals(True)
            action.setChecked(tool == name)
            action.blockSignals(False)
        if tool:
            self.show_action.setChecked(True)  # painting blind helps nobody

    def _smaller(self) -> None:
        self.size.setValue(max(1, round(self.size.value() / SIZE_STEP)))

    def _larger(self) -> None:
        self.size.setValue(min(MAX_BRUSH, round(self.size.value() * SIZE_STEP) + 1))

    def _on_current(self, mask: DamageMask | None) -> None:
        if self.mask is not None and self.mask is not mask:
            self.mask.doc.changed.disconnect(self._update)
        if mask is not None and mask is not self.mask:
            mask.doc.changed.connect(self._update)  # faces found: the search may start
        self.mask = mask
        self.painter.set_mask(mask)
        if mask is None:
            self.painter.set_tool("")
        self._update()

    def _on_finding(self, job) -> None:
        busy = job is not None
        self.find_progress.setVisible(busy)
        self.find_cancel.setVisible(busy)
        self._update()

    def _update(self) -> None:
        mask = self.mask
        has_photo = mask is not None
        damaged = has_photo and mask.has_damage()
        for action in (self.brush_action, self.eraser_action, self.show_action):
            action.setEnabled(has_photo)
        self.show_damage.setEnabled(has_photo)
        faces_known = has_photo and mask.doc.status not in (Status.OPENING, Status.DETECTING)
        self.find_action.setEnabled(faces_known and self.tools.job is None)
        self.find_button.setEnabled(self.find_action.isEnabled())
        self.undo_action.setEnabled(has_photo and mask.can_undo())
        self.redo_action.setEnabled(has_photo and mask.can_redo())
        self.clear_button.setEnabled(damaged)
        self.repair.blockSignals(True)
        self.repair.setChecked(self.controls.repair)
        self.repair.blockSignals(False)
        self.repair.setEnabled(damaged)
        self.method.setEnabled(damaged)
        self.summary.setText(_summary(mask) if has_photo else "")


def _summary(mask: DamageMask) -> str:
    if not mask.has_damage():
        return "No damage marked yet"
    share = cv2.countNonZero(mask.mask) / (mask.width * mask.height)
    return f"Marked: {share:.1%} of the photo" if share >= 0.001 else "Some damage marked"


def _tool_button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button
