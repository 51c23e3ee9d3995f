"""The error panel: hidden when empty, one banner, copy, dismiss, several errors, theme tint."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.errors import Cancelled, ImageReadError  # noqa: E402
from faceapp.gui.error_panel import (  # noqa: E402
    MAX_REPORTS,
    ErrorPanel,
    ErrorReport,
    banner_colours,
    report_from_exception,
)


@pytest.fixture
def panel(qtbot) -> Iterator[ErrorPanel]:
    window = QWidget()  # held here until the test ends: the panel dies with it
    layout = QVBoxLayout(window)
    panel = ErrorPanel()
    layout.addWidget(panel)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield panel


def _button(panel: ErrorPanel, name: str) -> QPushButton:
    button = panel.findChild(QPushButton, name)
    assert button is not None
    return button


def _message(panel: ErrorPanel) -> str:
    return panel.findChild(QLabel, "ErrorMessage").text()


def test_hidden_while_empty(panel: ErrorPanel) -> None:
    assert panel.window().isVisible()
    assert not panel.isVisible()
    assert panel.count() == 0 and panel.reports() == []


def test_shows_the_message_with_its_source(panel: ErrorPanel) -> None:
    panel.show_error(ErrorReport("The photo could not be read.", "trace", "grandma.jpg"))
    assert panel.isVisible()
    assert _message(panel) == "grandma.jpg: The photo could not be read."
    assert not _button(panel, "ShowAllErrors").isVisible()  # only one error


def test_a_source_already_in_the_message_is_not_repeated(panel: ErrorPanel) -> None:
    panel.show_error(ErrorReport("Cannot open 'b.heic': not a photo.", source="b.heic"))
    assert _message(panel) == "Cannot open 'b.heic': not a photo."


def test_every_error_is_logged(panel: ErrorPanel, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="faceapp.gui"):
        panel.show_error(ErrorReport("Out of memory.", "Traceback: boom", "a.png"))
    record = next(r for r in caplog.records if r.name == "faceapp.gui")
    assert record.levelno == logging.ERROR
    assert "a.png: Out of memory." in record.getMessage()
    assert "Traceback: boom" in record.getMessage()


def test_copy_details_puts_message_source_and_details_on_the_clipboard(
    panel: ErrorPanel, qtbot
) -> None:
    QApplication.clipboard().setText("before")
    panel.show_error(ErrorReport("Saving failed.", "OSError: [Errno 28]", "b.jpg"))
    qtbot.mouseClick(_button(panel, "CopyDetails"), Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text()
    assert "Saving failed." in copied
    assert "b.jpg" in copied
    assert "OSError: [Errno 28]" in copied


def test_copy_details_adds_the_report_header(qtbot) -> None:
    panel = ErrorPanel(report_header=lambda: "faceapp 9.9 on Test OS")
    qtbot.addWidget(panel)
    panel.show_error(ErrorReport("Oops.", "details"))
    assert panel.details_text().endswith("faceapp 9.9 on Test OS")
    assert panel.details_text().startswith("Oops.")


def test_dismiss_hides_and_emits(panel: ErrorPanel, qtbot) -> None:
    panel.show_error(ErrorReport("First."))
    panel.show_error(ErrorReport("Second."))
    with qtbot.waitSignal(panel.dismissed, timeout=1000):
        qtbot.mouseClick(_button(panel, "DismissErrors"), Qt.MouseButton.LeftButton)
    assert not panel.isVisible()
    assert panel.count() == 0


def test_escape_dismisses_from_the_panel(panel: ErrorPanel, qtbot) -> None:
    panel.show_error(ErrorReport("First."))
    copy = _button(panel, "CopyDetails")
    copy.setFocus()
    panel.window().activateWindow()
    with qtbot.waitSignal(panel.dismissed, timeout=1000):
        qtbot.keyClick(copy, Qt.Key.Key_Escape)
    assert not panel.isVisible()


def test_clear_hides_without_the_signal(panel: ErrorPanel, qtbot) -> None:
    panel.show_error(ErrorReport("First."))
    with qtbot.assertNotEmitted(panel.dismissed):
        panel.clear()
    assert not panel.isVisible() and panel.count() == 0


def test_several_errors_are_counted_and_listed(panel: ErrorPanel, qtbot) -> None:
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        panel.show_error(ErrorReport("Could not read it.", source=name))
    assert panel.count() == 3
    assert [r.source for r in panel.reports()] == ["c.jpg", "b.jpg", "a.jpg"]
    assert _message(panel) == "c.jpg: Could not read it."
    show_all = _button(panel, "ShowAllErrors")
    assert show_all.isVisible() and show_all.text() == "Show all (3)"
    listing = panel.findChild(QListWidget, "AllErrors")
    assert not listing.isVisible()
    qtbot.mouseClick(show_all, Qt.MouseButton.LeftButton)
    assert listing.isVisible() and show_all.isChecked()
    assert [listing.item(i).text() for i in range(listing.count())] == [
        "c.jpg: Could not read it.",
        "b.jpg: Could not read it.",
        "a.jpg: Could not read it.",
    ]
    qtbot.mouseClick(show_all, Qt.MouseButton.LeftButton)
    assert not listing.isVisible()


def test_the_list_of_errors_is_bounded(panel: ErrorPanel) -> None:
    for i in range(MAX_REPORTS + 5):
        panel.show_error(ErrorReport(f"Error {i}."))
    assert panel.count() == MAX_REPORTS
    assert panel.reports()[0].message == f"Error {MAX_REPORTS + 4}."


def test_buttons_are_reachable_and_explained(panel: ErrorPanel) -> None:
    panel.show_error(ErrorReport("First."))
    for name in ("CopyDetails", "DismissErrors", "ShowAllErrors"):
        button = _button(panel, name)
        assert button.toolTip()
        assert button.focusPolicy() & Qt.FocusPolicy.TabFocus


def _contrast(a: QColor, b: QColor) -> float:
    def luminance(c: QColor) -> float:
        def linear(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("window", "text", "dark"), [("#f0f0f0", "#000000", False), ("#2b2b2b", "#ffffff", True)]
)
def test_the_tint_is_red_and_readable(window: str, text: str, dark: bool) -> None:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    background, border = banner_colours(palette)
    for colour in (background, border):
        assert colour.red() > colour.green() and colour.red() > colour.blue()
    assert (background.lightness() < 128) == dark
    assert _contrast(background, QColor(text)) >= 4.5  # WCAG AA for normal text


def _painted_background(panel: ErrorPanel) -> QColor:
    return panel.grab().toImage().pixelColor(4, 4)  # inside the border, left of the icon


def test_the_tint_follows_a_theme_change(panel: ErrorPanel) -> None:
    panel.show_error(ErrorReport("First."))
    original = QApplication.palette()
    assert _painted_background(panel) == banner_colours(original)[0]
    dark = QPalette(original)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
    try:
        QApplication.setPalette(dark)
        QApplication.processEvents()
        painted = _painted_background(panel)
    finally:
        QApplication.setPalette(original)
    assert painted == banner_colours(dark)[0]
    assert painted.lightness() < 128


def test_report_for_a_faceapp_error_keeps_its_words() -> None:
    try:
        raise ImageReadError("Cannot open 'x.heic': this kind of file is not supported.")
    except ImageReadError as exc:
        report = report_from_exception(exc, source="x.heic")
    assert report.message == "Cannot open 'x.heic': this kind of file is not supported."
    assert report.source == "x.heic"
    assert "ImageReadError" in report.details and "Traceback" in report.details


def test_report_for_an_unexpected_error() -> None:
    try:
        raise ValueError("bad shape (3, 4).")
    except ValueError as exc:
        report = report_from_exception(exc)
    assert report.message == (
        "Something went wrong: bad shape (3, 4). The details were saved to the log."
    )
    assert "ValueError: bad shape (3, 4)." in report.details
    assert report.source == ""


def test_report_for_an_error_without_words() -> None:
    report = report_from_exception(MemoryError())
    assert report.message.startswith("Something went wrong: MemoryError.")


def test_report_for_a_cancelled_job() -> None:
    report = report_from_exception(Cancelled(), source="c.jpg")
    assert report == ErrorReport("Cancelled.", source="c.jpg")
