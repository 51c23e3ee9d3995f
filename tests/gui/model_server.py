"""Test helpers for the model GUI: a local model server (optionally slow) that every download
URL is redirected to, an unreachable address, and a watch on the QThreads a test starts."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import shiboken6
from PySide6.QtCore import QThread

from faceapp.core import catalog, download

CHUNK = 256 * 1024
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class ModelServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the request threads: none outlives a test

    def __init__(self, chunk_delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, Path] = {}  # URL path -> file served
        self.requests: list[str] = []
        self.chunk_delay = chunk_delay  # seconds between CHUNK-sized writes: a slow server
        self.stopping = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve_model(self, model_id: str, file: Path) -> None:
        """Serve ``file`` where the catalog's first URL for ``model_id`` is redirected to."""
        self.files[urlsplit(catalog.get_entry(model_id).urls[0]).path] = file

    def handle_error(self, request, client_address) -> None:
        pass  # the client hanging up on a cancelled download is expected


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        file = self.server.files.get(self.path)
        if file is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(file.stat().st_size))
        self.end_headers()
        with open(file, "rb") as reader:
            if not self.server.chunk_delay:
                shutil.copyfileobj(reader, self.wfile, CHUNK)
                return
            while (block := reader.read(CHUNK)) and not self.server.stopping.is_set():
                self.wfile.write(block)
                time.sleep(self.server.chunk_delay)


@contextmanager
def serving(monkeypatch: pytest.MonkeyPatch, chunk_delay: float = 0.0) -> Iterator[ModelServer]:
    """A running server that every download URL is redirected to."""
    for var in _PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(download.HOST_MAP_ENV, raising=False)
    server = ModelServer(chunk_delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    monkeypatch.setenv(download.BASE_URL_ENV, server.base_url)
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def go_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redirect downloads to a port nobody listens on, retrying without waiting."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for var in _PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(download.HOST_MAP_ENV, raising=False)
    monkeypatch.setenv(download.BASE_URL_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setattr(download, "BACKOFF_BASE", 0.01)


@contextmanager
def watching_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[QThread]]:
    """Record every QThread started inside; fail if one still runs at the end."""
    started: list[QThread] = []
    original = QThread.start

    def start(self: QThread, *args: object) -> None:
        started.append(self)
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield started
    running = [t for t in started if shiboken6.isValid(t) and t.isRunning()]
    for thread in running:
        thread.wait(30_000)  # do not leave it to crash the interpreter at exit
    if running:
        names = ", ".join(t.objectName() or repr(t) for t in running)
        pytest.fail(f"QThreads still running after the test: {names}")
