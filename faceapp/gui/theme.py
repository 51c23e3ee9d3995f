"""Light or dark, following the system: the Fusion style draws both from the system palette."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")  # the same look everywhere; it follows the system colour scheme
