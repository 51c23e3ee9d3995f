"""Helpers for the model catalog/store tests: a local model server and the user catalog."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from faceapp.core import paths
from faceapp.core.models import catalog, download

CHUNK = 256 * 1024
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class ModelServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the request threads: none outlives a test

    def __init__(self, chunk_delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes | Path] = {}  # URL path -> content
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
        pass  # a client hanging up (checksum failure, cancelled download) is expected


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        content = self.server.files.get(self.path)
        if content is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if isinstance(content, bytes):
            self.wfile.write(content)
            return
        with open(content, "rb") as file:
            if not self.server.chunk_delay:
                shutil.copyfileobj(file, self.wfile, CHUNK)
                return
            while (block := file.read(CHUNK)) and not self.server.stopping.is_set():
                self.wfile.write(block)
                time.sleep(self.server.chunk_delay)


@contextmanager
def running_server(chunk_delay: float = 0.0) -> Iterator[ModelServer]:
    server = ModelServer(chunk_delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serving(monkeypatch: pytest.MonkeyPatch, chunk_delay: float = 0.0) -> Iterator[ModelServer]:
    """A running server that every download URL is redirected to (no proxy, no host map)."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(download.HOST_MAP_ENV, raising=False)
    with running_server(chunk_delay) as server:
        monkeypatch.setenv(download.BASE_URL_ENV, server.base_url)
        yield server


def write_user_catalog(text: str) -> Path:
    """Write the user's catalog.toml in the (test-redirected) config folder."""
    path = paths.config_dir() / "catalog.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MY_CODEFORMER = (
    '[[model]]\nid = "my-codeformer"\npurpose = "face"\narch = "CodeFormer"\n'
    'input_size = 512\nfile_name = "my_codeformer.pth"\nhas_fidelity = true\n'
)


def install_my_codeformer(golden_codeformer: Path) -> Path:
    """Golden CodeFormer weights installed as the user's own "my-codeformer" (the official
    file's hash is pinned, so they cannot come in as "codeformer"), fidelity control on."""
    from faceapp.core.models import store

    write_user_catalog(MY_CODEFORMER)
    return store.import_model(golden_codeformer, as_id="my-codeformer")[1]
