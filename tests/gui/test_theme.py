"""The app follows the system's light or dark scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

from faceapp.gui.theme import apply_scheme, apply_theme


def test_dark_and_light_schemes_switch_the_palette(qapp) -> None:
    apply_theme(qapp)
    apply_scheme(qapp, Qt.ColorScheme.Dark)
    dark = qapp.palette()
    assert dark.color(QPalette.ColorRole.Window).lightness() < 80
    assert dark.color(QPalette.ColorRole.WindowText).lightness() > 180
    apply_scheme(qapp, Qt.ColorScheme.Light)
    light = qapp.palette()
    assert light.color(QPalette.ColorRole.Window).lightness() > 180
    assert light.color(QPalette.ColorRole.WindowText).lightness() < 80
