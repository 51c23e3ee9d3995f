"""The log file (location, format, rotation, one handler) and the problem report."""

from __future__ import annotations

import logging
import logging.handlers
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import faceapp
from faceapp import diagnostics
from faceapp.core import paths
from faceapp.diagnostics import (
    LOG_BACKUPS,
    MAX_LOG_BYTES,
    format_exception_details,
    last_log_lines,
    log_path,
    setup_logging,
    system_report,
)


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    logger = logging.getLogger("faceapp")
    level = logger.level
    diagnostics.close_logging()
    yield
    diagnostics.close_logging()
    logger.setLevel(level)


def _our_handlers() -> list[logging.Handler]:
    handlers = logging.getLogger("faceapp").handlers
    return [h for h in handlers if isinstance(h, logging.handlers.RotatingFileHandler)]


def test_the_log_goes_to_the_redirected_log_dir(isolated_user_dirs: Path) -> None:
    path = setup_logging()
    logging.getLogger("faceapp.core.runtime.engine").warning("model loaded: ünïcode ✓")
    assert path == log_path() == paths.log_dir() / "faceapp.log"
    assert path.is_relative_to(isolated_user_dirs)
    assert not path.is_relative_to(Path.home())
    line = path.read_text(encoding="utf-8").splitlines()[-1]
    assert "WARNING" in line and "[MainThread]" in line and "faceapp.core.runtime.engine" in line
    assert line.endswith("model loaded: ünïcode ✓")
    assert line[:4].isdigit()  # starts with the time


def test_setup_is_idempotent() -> None:
    setup_logging()
    count = len(logging.getLogger("faceapp").handlers)
    setup_logging()
    setup_logging(logging.DEBUG)
    assert len(logging.getLogger("faceapp").handlers) == count
    assert len(_our_handlers()) == 1
    assert logging.getLogger("faceapp").level == logging.DEBUG


def test_setup_follows_a_moved_log_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first = setup_logging()
    monkeypatch.setenv("FACEAPP_LOG_DIR", str(tmp_path / "elsewhere"))
    second = setup_logging()
    logging.getLogger("faceapp").info("after the move")
    assert second != first
    assert len(_our_handlers()) == 1
    assert "after the move" in second.read_text(encoding="utf-8")
    assert "after the move" not in first.read_text(encoding="utf-8")


def test_the_log_rotates_with_three_backups() -> None:
    path = setup_logging()
    logger = logging.getLogger("faceapp.test")
    chunk = "x" * 1000
    for i in range((LOG_BACKUPS + 2) * MAX_LOG_BYTES // 1000):
        logger.info("%d %s", i, chunk)
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["faceapp.log"] + [f"faceapp.log.{i}" for i in range(1, LOG_BACKUPS + 1)]
    assert all(p.stat().st_size <= MAX_LOG_BYTES for p in path.parent.iterdir())
    assert last_log_lines(1)[0].split(": ", 1)[1].startswith(f"{i} x")


def test_last_log_lines() -> None:
    assert last_log_lines() == []  # no log yet
    setup_logging()
    logger = logging.getLogger("faceapp.test")
    for i in range(60):
        logger.info("message %d", i)
    lines = last_log_lines(5)
    assert len(lines) == 5
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["55", "56", "57", "58", "59"]
    assert len(last_log_lines()) == 50
    assert last_log_lines(0) == []


def test_system_report_lists_versions_folders_and_the_log() -> None:
    setup_logging()
    logging.getLogger("faceapp.test").info("something to report")
    report = system_report("GPU: Test Card")
    assert f"faceapp {faceapp.__version__}" in report
    assert "Python 3." in report
    assert "torch: " in report and "CUDA: " in report and "MPS available: " in report
    assert "PySide6: " in report
    assert "Device: GPU: Test Card" in report
    assert f"Models folder: {paths.models_dir()}" in report
    assert f"Log file: {log_path()}" in report
    assert report.rstrip().endswith("something to report")


def test_system_report_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    report = system_report()
    assert "torch: cannot be imported" in report
    assert "Device:" not in report


def test_system_report_hides_the_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEAPP_MODELS_DIR", str(Path.home() / "my-models"))
    report = system_report()
    assert f"Models folder: {Path('~') / 'my-models'}" in report
    assert str(Path.home()) + "/" not in report


def test_format_exception_details_has_the_traceback_and_cause() -> None:
    try:
        try:
            {}["missing"]
        except KeyError as inner:
            raise RuntimeError("could not load") from inner
    except RuntimeError as exc:
        text = format_exception_details(exc)
    assert text.startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in text
    assert text.endswith("RuntimeError: could not load")
    assert "test_format_exception_details_has_the_traceback_and_cause" in text


def test_importing_diagnostics_and_settings_loads_neither_torch_nor_qt() -> None:
    code = (
        "import sys, faceapp.diagnostics, faceapp.settings\n"
        "print(sorted(m for m in ('torch', 'PySide6', 'cv2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
