"""Start the desktop app: the window shows first; torch loads afterwards on the worker."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="faceapp", description="Restore faces in old, blurry or damaged photos."
    )
    parser.add_argument("photos", nargs="*", type=Path, help="photos or folders to open")
    parser.add_argument(
        "--quit-after-show",
        action="store_true",
        help="print how long the window took to appear, then quit (a start-up check)",
    )
    parser.add_argument("--version", action="version", version=_version())
    return parser.parse_args(argv)


def check_platform() -> list[str] | None:
    """Before Qt: can a window open? The extra Qt arguments when it can (``-platform wayland``
    when only Wayland can start); None after saying why not, in the terminal and on the desktop.
    """
    from faceapp.gui import platform_check

    verdict = platform_check.check()
    if verdict.ok:
        # An argument, not QT_QPA_PLATFORM: programs the app starts (a file manager) keep theirs.
        return ["-platform", verdict.platform] if verdict.platform else []
    message = platform_check.explain(verdict)
    print(message, file=sys.stderr)
    _log_start_failure(message)
    if not all(c.unset for c in verdict.candidates):
        platform_check.notify("faceapp cannot open its window", message, verdict)
    return None


def _log_start_failure(message: str) -> None:
    """Started from a menu there is no terminal: keep the reason in the log file too."""
    from faceapp.diagnostics import setup_logging

    try:
        setup_logging()
    except OSError:
        return
    logging.getLogger("faceapp.gui").error("the window cannot open:\n%s", message)


def _version() -> str:
    from faceapp import __version__

    return f"faceapp {__version__}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    qt_args = check_platform()
    if qt_args is None:
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from faceapp.core.paths import resource
    from faceapp.diagnostics import route_warnings, setup_logging
    from faceapp.gui import platform_check
    from faceapp.gui.main_window import MainWindow
    from faceapp.gui.theme import apply_theme
    from faceapp.settings import load_settings

    platform_check.keep_opencv_out_of_qt()  # the imports above load cv2, which may have set them
    app = QApplication.instance() or QApplication(sys.argv[:1] + qt_args)
    app.setApplicationName("faceapp")
    app.setOrganizationName("faceapp")
    app.setDesktopFileName("faceapp")
    app.setWindowIcon(QIcon(str(resource("icons", "faceapp-256.png"))))
    setup_logging()
    route_warnings(show=False)  # a windowed app has no console: third-party warnings are logged
    sys.excepthook = _log_uncaught
    apply_theme(app)
    window = MainWindow(load_settings())
    window.show()
    if args.quit_after_show:
        return _report_start(app, window)
    QTimer.singleShot(0, lambda: window.after_show(args.photos))
    return app.exec()


def _report_start(app, window) -> int:
    from PySide6.QtCore import QTimer

    def done() -> None:
        torch_loaded = "torch" in sys.modules
        print(
            f"window shown after {time.perf_counter() - STARTED:.2f} s; torch loaded: "
            f"{'yes' if torch_loaded else 'no'}",
            flush=True,
        )
        window.close()

    QTimer.singleShot(0, done)
    return app.exec()


def _log_uncaught(kind, value, tb) -> None:
    logging.getLogger("faceapp").critical("uncaught error", exc_info=(kind, value, tb))


if __name__ == "__main__":
    sys.exit(main())
