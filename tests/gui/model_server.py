"""Test helpers for the model GUI: the shared local model server (tests/models_testkit.py), an
unreachable address, and a record of the QThreads a test starts (tests/gui/conftest.py fails
any test that leaves one running)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from models_testkit import PROXY_VARS, ModelServer, serving
from PySide6.QtCore import QThread

from faceapp.core.models import download

__all__ = ["ModelServer", "go_offline", "serving", "watching_threads"]


def go_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redirect downloads to a port nobody listens on, retrying without waiting."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(download.HOST_MAP_ENV, raising=False)
    monkeypatch.setenv(download.BASE_URL_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setattr(download, "BACKOFF_BASE", 0.01)


@contextmanager
def watching_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[QThread]]:
    """Record every QThread started inside."""
    started: list[QThread] = []
    original = QThread.start

    def start(self: QThread, *args: object) -> None:
        started.append(self)
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield started
