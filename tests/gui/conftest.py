"""GUI tests run offscreen, and fail when a test leaves a thread running."""

from __future__ import annotations

import gc
import os
import threading
import warnings
from pathlib import Path

import pytest
import shiboken6

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _running_qthreads() -> list:
    from PySide6.QtCore import QThread

    with warnings.catch_warnings():  # isinstance() pokes deprecated torch module attributes
        warnings.simplefilter("ignore")
        threads = [o for o in gc.get_objects() if isinstance(o, QThread)]
    return [t for t in threads if shiboken6.isValid(t) and t.isRunning()]


@pytest.fixture(autouse=True)
def no_thread_left_running(qapp):
    """Every thread a test starts must have ended when it finishes (windows shut down)."""
    before = set(threading.enumerate())
    yield
    qapp.processEvents()
    leaked_q = _running_qthreads()
    leaked_py = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]  # a QThread that ran Python shows up as a _DummyThread forever: checked as a QThread
    for thread in leaked_q:  # stop them so one failure does not cascade into the next test
        thread.quit()
        thread.wait(10000)
    assert not leaked_q, f"QThreads left running: {[t.objectName() for t in leaked_q]}"
    assert not leaked_py, f"threads left running: {[t.name for t in leaked_py]}"


@pytest.fixture
def window(qtbot):
    """The main window with default settings, shut down (threads joined) after the test."""
    from faceapp.gui.main_window import MainWindow
    from faceapp.settings import Settings

    w = MainWindow(Settings())
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


@pytest.fixture
def gpen(golden_file) -> Path:
    """GPEN-BFR-256 golden weights, installed the way a user imports a file."""
    from faceapp.core.models import store as model_store

    entry, path = model_store.import_model(golden_file("gpen_bfr_256"))
    assert entry.id == "gpen-bfr-256"
    return path
