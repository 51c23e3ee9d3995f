"""Light or dark, following the system's colour scheme, and again when the system switches."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_DARK = {
    QPalette.ColorRole.Window: "#2b2b2e",
    QPalette.ColorRole.WindowText: "#e8e8ea",
    QPalette.ColorRole.Base: "#1f1f22",
    QPalette.ColorRole.AlternateBase: "#2f2f33",
    QPalette.ColorRole.ToolTipBase: "#3a3a3f",
    QPalette.ColorRole.ToolTipText: "#f0f0f2",
    QPalette.ColorRole.PlaceholderText: "#8c8c92",
    QPalette.ColorRole.Text: "#e8e8ea",
    QPalette.ColorRole.Button: "#36363a",
    QPalette.ColorRole.ButtonText: "#e8e8ea",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d8fd6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6cb4ff",
    QPalette.ColorRole.Mid: "#4a4a50",
    QPalette.ColorRole.Dark: "#18181a",
    QPalette.ColorRole.Shadow: "#000000",
}
_DISABLED_TEXT = "#7a7a80"


def apply_theme(app: QApplication) -> None:
    """Fusion everywhere (the same look on every system), in the system's light or dark."""
    app.setStyle("Fusion")
    hints = app.styleHints()
    apply_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))


def apply_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    if scheme == Qt.ColorScheme.Dark:
        app.setPalette(dark_palette())
    else:
        app.setPalette(app.style().standardPalette())


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT))
    return palette
