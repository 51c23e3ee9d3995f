"""The one place on screen where errors appear: a tinted banner with the latest error, its
photo, "Copy details", "Dismiss", and the earlier errors behind "Show all (N)"."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.errors import Cancelled, FaceappError
from faceapp.diagnostics import format_exception_details

log = logging.getLogger("faceapp.gui")

MAX_REPORTS = 100  # a batch of failing photos must not grow the list without end
_RED = QColor(220, 53, 69)
_SHORT_LIMIT = 160


@dataclass(frozen=True)
class ErrorReport:
    message: str  # plain words, shown as it is
    details: str = ""  # traceback or technical text, for "Copy details"
    source: str = ""  # what it is about, e.g. a photo's name

    def headline(self) -> str:
        """The message, after its source unless the message already names it."""
        if not self.source or self.source in self.message:
            return self.message
        return f"{self.source}: {self.message}"

    def as_text(self) -> str:
        parts = [self.message]
        if self.source:
            parts.append(f"Source: {self.source}")
        if self.details:
            parts += ["", self.details]
        return "\n".join(parts)


def report_from_exception(exc: BaseException, source: str = "") -> ErrorReport:
    """An ErrorReport for exc: faceapp's own errors are already worded for people."""
    if isinstance(exc, Cancelled):
        return ErrorReport("Cancelled.", source=source)
    details = format_exception_details(exc)
    if isinstance(exc, FaceappError) and str(exc).strip():
        return ErrorReport(str(exc), details, source)
    message = f"Something went wrong: {_short(exc)}. The details were saved to the log."
    return ErrorReport(message, details, source)


def _short(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0].rstrip(".") if lines else type(exc).__name__
    return text if len(text) <= _SHORT_LIMIT else text[: _SHORT_LIMIT - 1] + "…"


def _mix(base: QColor, tint: QColor, amount: float) -> QColor:
    def channel(a: int, b: int) -> int:
        return round(a + (b - a) * amount)

    return QColor(
        channel(base.red(), tint.red()),
        channel(base.green(), tint.green()),
        channel(base.blue(), tint.blue()),
    )


def banner_colours(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, border): a red tint of the window colour, light or dark as the theme is.

    The text keeps the palette's WindowText, which stays readable on so light a tint.
    """
    window = palette.color(QPalette.ColorRole.Window)
    dark = window.lightness() < 128
    return _mix(window, _RED, 0.28 if dark else 0.14), _mix(window, _RED, 0.75)


class ErrorPanel(QFrame):
    """Hidden while there is no error. Call show_error on the GUI thread."""

    dismissed = Signal()

    def __init__(
        self, parent: QWidget | None = None, report_header: Callable[[], str] | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorPanel")
        self._reports: list[ErrorReport] = []  # newest first
        self._report_header = report_header  # e.g. diagnostics.system_report, for bug reports
        self._build()
        self.setVisible(False)

    # --- building ---

    def _build(self) -> None:
        self._icon = QLabel()
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        self._icon.setPixmap(icon.pixmap(24, 24))
        self._icon.setAccessibleName("Error")
        self._message = QLabel()
        self._message.setObjectName("ErrorMessage")
        self._message.setWordWrap(True)
        self._message.setTextFormat(Qt.TextFormat.PlainText)
        self._message.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self._message.setAccessibleName("Error message")
        self._show_all = self._button("", "List every error since the last dismiss", self._toggle)
        self._copy = self._button(
            "Copy details",
            "Copy the errors and their details, to paste in a problem report",
            self._copy_all,
        )
        self._dismiss = self._button("Dismiss", "Hide the errors (Esc)", self._on_dismiss)
        self._show_all.setObjectName("ShowAllErrors")
        self._show_all.setCheckable(True)
        self._copy.setObjectName("CopyDetails")
        self._dismiss.setObjectName("DismissErrors")
        self._list = QListWidget()
        self._list.setObjectName("AllErrors")
        self._list.setAccessibleName("All errors")
        self._list.setMaximumHeight(self.fontMetrics().height() * 8)
        self._list.setVisible(False)
        self._layout()
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self._on_dismiss)

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setAccessibleDescription(tip)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._message, 1)
        for button in (self._show_all, self._copy, self._dismiss):
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 6)
        column.addLayout(row)
        column.addWidget(self._list)

    # --- the public face ---

    def show_error(self, report: ErrorReport) -> None:
        """Show report on top of the earlier ones, and write it to the log."""
        log.error("%s\n%s", report.headline(), report.details or "(no details)")
        self._reports = [report, *self._reports][:MAX_REPORTS]
        self._refresh()

    def clear(self) -> None:
        self._reports = []
        self._refresh()

    def count(self) -> int:
        return len(self._reports)

    def reports(self) -> list[ErrorReport]:
        """The errors shown since the last dismiss, newest first."""
        return list(self._reports)

    def details_text(self) -> str:
        """What "Copy details" puts on the clipboard."""
        texts = [report.as_text() for report in self._reports]
        if self._report_header is not None:
            texts.append(self._report_header())
        return "\n\n----\n\n".join(texts)

    # --- behaviour ---

    def _refresh(self) -> None:
        if not self._reports:
            self._show_all.setChecked(False)
            self._list.clear()
            self._list.setVisible(False)
            self.setVisible(False)
            return
        latest = self._reports[0]
        self._message.setText(latest.headline())
        several = len(self._reports) > 1
        self._show_all.setText(f"Show all ({len(self._reports)})")
        self._show_all.setVisible(several)
        self._list.setVisible(self._show_all.isChecked() and several)
        self._list.clear()
        self._list.addItems([report.headline() for report in self._reports])
        self.setVisible(True)

    def _toggle(self) -> None:
        self._list.setVisible(self._show_all.isChecked())

    def _copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())

    def _on_dismiss(self) -> None:
        self.clear()
        self.dismissed.emit()

    # --- painted, not style-sheeted: a style sheet would stop following theme changes ---

    def paintEvent(self, event: QPaintEvent) -> None:
        background, border = banner_colours(self.palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border, 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
