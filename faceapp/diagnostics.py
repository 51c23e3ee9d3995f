"""The log file and the text of a problem report.

A windowed app has no console: everything worth knowing after a failure goes to a rotating
log file in the platform's log folder. torch is imported only when a report is asked for.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import platform
import sys
import traceback
from collections import deque
from logging.handlers import RotatingFileHandler
from pathlib import Path

import faceapp
from faceapp.core import paths

LOGGER_NAME = "faceapp"
LOG_FILE = "faceapp.log"
MAX_LOG_BYTES = 1024 * 1024
LOG_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"
REPORT_LOG_LINES = 40
WARNINGS_LOGGER = "py.warnings"  # where logging.captureWarnings sends them


class _FaceappLogHandler(RotatingFileHandler):
    """The log file handler set up here (a class of its own so it can be found again)."""


def log_path() -> Path:
    return paths.log_dir() / LOG_FILE


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the "faceapp" loggers to a rotating UTF-8 file; return its path.

    Calling it again keeps one handler (and moves it when the log folder has changed).
    """
    path = log_path()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    handler = _our_handler()
    if handler is not None and handler.baseFilename == os.path.abspath(path):
        return path
    close_logging()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _FaceappLogHandler(
        path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    return path


def route_warnings(show: bool = False) -> None:
    """Python warnings (third-party deprecations, e.g. torch.jit.script's FutureWarning inside
    spandrel's extra architectures) go to the log file, and to stderr only when ``show``.

    Call after setup_logging(): the log file handler is shared with the "faceapp" loggers.
    """
    # Off, then on: captureWarnings(True) does nothing while it believes it is on, even when
    # warnings.showwarning was put back since (as warnings.catch_warnings does).
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    logger = logging.getLogger(WARNINGS_LOGGER)
    logger.propagate = False  # else logging's last-resort handler prints them anyway
    for handler in list(logger.handlers):
        if isinstance(handler, _FaceappLogHandler | _ShownWarnings | logging.NullHandler):
            logger.removeHandler(handler)
    ours = _our_handler()
    if ours is not None:
        logger.addHandler(ours)
    if show:
        shown = _ShownWarnings(sys.stderr)
        shown.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(shown)
    else:
        logger.addHandler(logging.NullHandler())


class _ShownWarnings(logging.StreamHandler):
    """Warnings on stderr (--debug)."""


def close_logging() -> None:
    """Remove and close the log file handler (at exit, and between tests)."""
    handler = _our_handler()
    if handler is not None:
        logging.getLogger(LOGGER_NAME).removeHandler(handler)
        logging.getLogger(WARNINGS_LOGGER).removeHandler(handler)
        handler.close()


def _our_handler() -> _FaceappLogHandler | None:
    handlers = logging.getLogger(LOGGER_NAME).handlers
    return next((h for h in handlers if isinstance(h, _FaceappLogHandler)), None)


def last_log_lines(n: int = 50) -> list[str]:
    """The last n lines of the current log file (without line ends); [] when there is none."""
    handler = _our_handler()
    if handler is not None:
        handler.flush()
    try:
        with open(log_path(), encoding="utf-8", errors="replace") as stream:
            return [line.rstrip("\r\n") for line in deque(stream, maxlen=max(n, 0))]
    except OSError:
        return []


def format_exception_details(exc: BaseException) -> str:
    """The full traceback text of exc (with its causes), for "Copy details" and the log."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()


# --- the problem report ------------------------------------------------------------------------


def system_report(device_name: str | None = None) -> str:
    """Versions, platform, folders and the end of the log: the text for "Report a problem"."""
    lines = [
        f"faceapp {faceapp.__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"OS: {platform.platform()} ({platform.machine()})",
        f"PySide6: {_pyside_version()}",
        *_torch_lines(),
        _openvino_line(),
    ]
    if device_name:
        lines.append(f"Device: {device_name}")
    lines += [
        f"Models folder: {paths.models_dir()}",
        f"Log file: {log_path()}",
        "",
        f"--- last {REPORT_LOG_LINES} log lines ---",
        *last_log_lines(REPORT_LOG_LINES),
    ]
    return _hide_home("\n".join(lines))


def _pyside_version() -> str:
    module = sys.modules.get("PySide6")
    if module is not None:
        return str(getattr(module, "__version__", "unknown version"))
    for dist in ("PySide6", "PySide6-Essentials"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def _torch_lines() -> list[str]:
    try:
        torch = importlib.import_module("torch")
    except Exception as exc:  # a broken install raises OSError (DLLs) as well as ImportError
        return [f"torch: cannot be imported ({type(exc).__name__}: {exc})"]
    mps = getattr(torch.backends, "mps", None)
    return [
        f"torch: {torch.__version__}",
        f"CUDA: {torch.version.cuda or 'none in this build'}"
        f" (available: {_yes_no(torch.cuda.is_available())})",
        f"MPS available: {_yes_no(bool(mps and mps.is_available()))}",
    ]


def _openvino_line() -> str:
    """The compiled runtime: its version and devices, or why it is not used."""
    try:
        openvino = importlib.import_module("openvino")
        devices = ", ".join(openvino.Core().available_devices)
    except Exception as exc:  # missing or broken: PyTorch runs everything
        return f"OpenVINO: not available ({type(exc).__name__}: {exc})"
    return f"OpenVINO: {openvino.get_version().split('-')[0]} (devices: {devices})"


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _hide_home(text: str) -> str:
    """The home folder as ~: paths stay useful without showing the user's account name."""
    home = str(Path.home())
    return text.replace(home, "~") if len(home) > 1 else text
