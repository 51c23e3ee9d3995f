"""faceapp.core.models.download against a local threaded HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
import time
from collections import namedtuple
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from faceapp.core.errors import Cancelled, ChecksumError, DownloadError
from faceapp.core.models import download
from faceapp.core.models.download import DownloadProgress, download_file, resolve_url, sha256_file
from faceapp.core.progress import CancelToken

SIZE = 3 * 1024 * 1024 + 12345  # not a multiple of any block size
DATA = os.urandom(SIZE)
DATA_SHA = hashlib.sha256(DATA).hexdigest()
BLOCK = 64 * 1024
STALL_MAX = 5.0  # a stalled handler never waits longer than this, even if teardown is missed


@dataclass
class Behaviour:
    """What the handler does; each test sets the fields it needs."""

    data: bytes = DATA
    statuses: list[int] = field(default_factory=list)  # answered in turn before the file
    retry_after: str | None = None
    drop_first: int = 0  # this many requests are cut half-way through the body
    stall: bool = False  # half the body then silence; with Range, silence at once
    corrupt: bool = False
    ignore_range: bool = False
    redirects: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    body_bytes: int = 0  # file bytes written, over all requests


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        self.release = threading.Event()

    def url(self, path: str = "/file.bin") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up on purpose are part of the tests


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        b = self.server.behaviour
        with self.server.lock:
            b.requests.append((self.path, self.headers.get("Range")))
            redirect = b.redirects.get(self.path)
            status = b.statuses.pop(0) if b.statuses and not redirect else None
            drop = b.drop_first > 0 and not redirect and status is None
            b.drop_first -= int(drop)
        if redirect:
            self._empty(302, {"Location": redirect})
        elif status is not None:
            headers = {"Retry-After": b.retry_after} if b.retry_after else {}
            self._empty(status, headers)
        else:
            self._file(b, cut=drop or b.stall)

    def _empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": "0"}.items():
            self.send_header(name, value)
        self.end_headers()

    def _file(self, b: Behaviour, cut: bool) -> None:
        data = bytes(x ^ 0xFF for x in b.data[:100]) + b.data[100:] if b.corrupt else b.data
        start = self._range_start(b)
        if start >= len(data) and start > 0:
            self._empty(416, {"Content-Range": f"bytes */{len(data)}"})
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if cut:
            body = body[: len(body) // 2] if start == 0 or not b.stall else b""
        self._write(b, body)
        if b.stall:
            self.server.release.wait(STALL_MAX)
        self.close_connection = self.close_connection or cut

    def _range_start(self, b: Behaviour) -> int:
        header = self.headers.get("Range")
        if not header or b.ignore_range:
            return 0
        return int(header.removeprefix("bytes=").split("-")[0])

    def _write(self, b: Behaviour, body: bytes) -> None:
        try:
            for i in range(0, len(body), BLOCK):
                self.wfile.write(body[i : i + BLOCK])
                with self.server.lock:
                    b.body_bytes += len(body[i : i + BLOCK])
            self.wfile.flush()
        except OSError:
            self.close_connection = True


@pytest.fixture
def server():
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def fast_and_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "BACKOFF_BASE", 0.01)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(download.BASE_URL_ENV, raising=False)
    monkeypatch.delenv(download.HOST_MAP_ENV, raising=False)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "models" / "sub" / "weights.pth"


def part_of(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def ranges(server: Server) -> list[str | None]:
    return [r for _, r in server.behaviour.requests]


# ------------------------------------------------------------------------------ downloads


def test_complete_download_verified_with_progress(server: Server, dest: Path) -> None:
    calls: list[DownloadProgress] = []
    digest = download_file(server.url(), dest, sha256=DATA_SHA, progress=calls.append)
    assert digest == DATA_SHA
    assert dest.read_bytes() == DATA
    assert not part_of(dest).exists()
    assert calls, "no progress reported"
    downloaded = [c.downloaded for c in calls]
    assert downloaded == sorted(downloaded)
    assert calls[-1].downloaded == calls[-1].total == SIZE
    assert all(c.bytes_per_second >= 0 for c in calls)
    assert ranges(server) == [None]


def test_dropped_connection_resumes_with_range(server: Server, dest: Path) -> None:
    server.behaviour.drop_first = 1
    assert download_file(server.url(), dest, sha256=DATA_SHA) == DATA_SHA
    assert dest.read_bytes() == DATA
    first, second = ranges(server)
    assert first is None
    assert second is not None and second.startswith("bytes=") and second != "bytes=0-"
    # Only the missing part was sent again.
    assert server.behaviour.body_bytes == SIZE


def test_resumes_existing_part(server: Server, dest: Path) -> None:
    dest.parent.mkdir(parents=True)
    part_of(dest).write_bytes(DATA[:1_000_000])
    calls: list[DownloadProgress] = []
    digest = download_file(server.url(), dest, sha256=DATA_SHA, progress=calls.append)
    assert digest == DATA_SHA
    assert dest.read_bytes() == DATA
    assert ranges(server) == ["bytes=1000000-"]
    assert server.behaviour.body_bytes == SIZE - 1_000_000
    assert calls[0].downloaded > 1_000_000 and calls[-1].downloaded == SIZE


def test_complete_part_answered_416_is_finished(server: Server, dest: Path) -> None:
    dest.parent.mkdir(parents=True)
    part_of(dest).write_bytes(DATA)
    assert download_file(server.url(), dest, sha256=DATA_SHA) == DATA_SHA
    assert ranges(server) == [f"bytes={SIZE}-"]
    assert dest.read_bytes() == DATA


def test_complete_part_of_expected_size_needs_no_request(server: Server, dest: Path) -> None:
    dest.parent.mkdir(parents=True)
    part_of(dest).write_bytes(DATA)
    assert download_file(server.url(), dest, sha256=DATA_SHA, expected_size=SIZE) == DATA_SHA
    assert ranges(server) == []


def test_server_ignoring_range_restarts_from_zero(server: Server, dest: Path) -> None:
    server.behaviour.ignore_range = True
    dest.parent.mkdir(parents=True)
    part_of(dest).write_bytes(b"\0" * 500_000)  # wrong bytes: must not survive the restart
    assert download_file(server.url(), dest, sha256=DATA_SHA) == DATA_SHA
    assert dest.read_bytes() == DATA
    assert ranges(server) == ["bytes=500000-"]


def test_redirect_is_followed(server: Server, dest: Path) -> None:
    server.behaviour.redirects = {"/latest": "/file.bin"}
    server.behaviour.drop_first = 1
    assert download_file(server.url("/latest"), dest, sha256=DATA_SHA) == DATA_SHA
    paths = [p for p, _ in server.behaviour.requests]
    assert paths == ["/latest", "/file.bin", "/latest", "/file.bin"]


# ------------------------------------------------------------------------------ failures


def test_wrong_checksum_deletes_everything(server: Server, dest: Path) -> None:
    server.behaviour.corrupt = True
    with pytest.raises(ChecksumError, match="SHA-256 mismatch"):
        download_file(server.url(), dest, sha256=DATA_SHA)
    assert not dest.exists()
    assert not part_of(dest).exists()


def test_size_other_than_expected_fails_before_downloading(server: Server, dest: Path) -> None:
    with pytest.raises(ChecksumError, match="not the expected one"):
        download_file(server.url(), dest, expected_size=SIZE + 1)
    assert not dest.exists() and not part_of(dest).exists()
    assert len(server.behaviour.requests) == 1


def test_404_fails_at_once(server: Server, dest: Path) -> None:
    server.behaviour.statuses = [404] * 10
    url = server.url("/missing.bin")
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        download_file(url, dest)
    assert url in str(info.value)
    assert "no file" in str(info.value)
    assert len(server.behaviour.requests) == 1
    assert not dest.exists()


def test_503_then_success(server: Server, dest: Path) -> None:
    server.behaviour.statuses = [503, 503]
    server.behaviour.retry_after = "0"
    assert download_file(server.url(), dest, sha256=DATA_SHA) == DATA_SHA
    assert len(server.behaviour.requests) == 3


def test_retry_after_is_honoured_up_to_a_cap(
    server: Server, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "RETRY_AFTER_CAP", 0.3)
    server.behaviour.statuses = [429]
    server.behaviour.retry_after = "3600"
    start = time.monotonic()
    assert download_file(server.url(), dest, sha256=DATA_SHA) == DATA_SHA
    assert 0.3 <= time.monotonic() - start < 5


def test_server_errors_exhaust_retries(server: Server, dest: Path) -> None:
    server.behaviour.statuses = [500] * 10
    with pytest.raises(DownloadError, match="HTTP 500"):
        download_file(server.url(), dest, retries=2)
    assert len(server.behaviour.requests) == 3
    assert not dest.exists()


def test_stall_fails_within_bounded_time(server: Server, dest: Path) -> None:
    server.behaviour.stall = True
    start = time.monotonic()
    with pytest.raises(DownloadError, match="stalled: no data for 0.5 s"):
        download_file(server.url(), dest, stall_timeout=0.5, retries=1)
    assert time.monotonic() - start < STALL_MAX
    assert len(server.behaviour.requests) == 2
    assert not dest.exists()
    assert part_of(dest).stat().st_size > 0  # kept for a later resume


def test_cancel_from_progress_keeps_part(server: Server, dest: Path) -> None:
    token = CancelToken()

    def on_progress(p: DownloadProgress) -> None:
        if p.downloaded < SIZE:
            token.cancel()

    with pytest.raises(Cancelled):
        download_file(server.url(), dest, progress=on_progress, cancel=token)
    assert not dest.exists()
    kept = part_of(dest).stat().st_size
    assert 0 < kept < SIZE
    # The kept part is resumed by the next call.
    assert download_file(server.url(), dest, sha256=DATA_SHA) == DATA_SHA
    assert ranges(server)[-1] == f"bytes={kept}-"


def test_offline_says_cannot_reach(dest: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(DownloadError, match="Cannot reach 127.0.0.1: you seem to be offline"):
        download_file(f"http://127.0.0.1:{port}/file.bin", dest, retries=1)
    assert not dest.exists()


DiskUsage = namedtuple("DiskUsage", "total used free")


def test_disk_space_checked_before_starting(
    server: Server, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: DiskUsage(10**9, 10**9, 5 * 1024**2))
    with pytest.raises(DownloadError, match=r"needs 2\.1 GB and only 5 MB is free"):
        download_file(server.url(), dest, expected_size=2 * 1024**3)
    assert server.behaviour.requests == []


def test_disk_space_checked_from_content_length(
    server: Server, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: DiskUsage(10**9, 10**9, 1024**2))
    with pytest.raises(DownloadError, match="Not enough disk space"):
        download_file(server.url(), dest)
    assert len(server.behaviour.requests) == 1
    assert not dest.exists()


def test_uses_given_client(server: Server, dest: Path) -> None:
    with httpx.Client() as client:
        assert download_file(server.url(), dest, client=client) == DATA_SHA
        assert not client.is_closed


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    assert sha256_file(path) == DATA_SHA
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        sha256_file(path, token)


# ------------------------------------------------------------------------------ mirrors


@pytest.mark.parametrize(
    ("base", "host_map", "url", "expected"),
    [
        ("", "", "https://github.com/a/b.pth", "https://github.com/a/b.pth"),
        (
            "http://127.0.0.1:9000/x",
            "",
            "https://github.com/a/b.pth?dl=1",
            "http://127.0.0.1:9000/x/a/b.pth?dl=1",
        ),
        ("http://127.0.0.1:9000/x/", "", "https://h.org:8443/b", "http://127.0.0.1:9000/x/b"),
        ("http://127.0.0.1:9000", "", "https://h.org/b", "http://127.0.0.1:9000/b"),
        # Already on the mirror (a redirect target): left alone.
        ("http://127.0.0.1:9000/x", "", "http://127.0.0.1:9000/x/b", "http://127.0.0.1:9000/x/b"),
        (
            "",
            "github.com=http://127.0.0.1:8000, example.org=http://127.0.0.1:8001/mirror",
            "https://example.org/w/c.onnx",
            "http://127.0.0.1:8001/mirror/w/c.onnx",
        ),
        ("", "github.com=http://127.0.0.1:8000", "https://other.org/a", "https://other.org/a"),
        # The host map wins over the base URL; other hosts go to the base URL.
        (
            "http://127.0.0.1:9000/base",
            "github.com=http://127.0.0.1:8000",
            "https://GitHub.com/a",
            "http://127.0.0.1:8000/a",
        ),
        (
            "http://127.0.0.1:9000/base",
            "github.com=http://127.0.0.1:8000",
            "https://other.org/a",
            "http://127.0.0.1:9000/base/a",
        ),
        # A redirect onto a host-map mirror is not sent on to the base URL.
        (
            "http://127.0.0.1:9000/base",
            "github.com=http://127.0.0.1:8000",
            "http://127.0.0.1:8000/a",
            "http://127.0.0.1:8000/a",
        ),
        ("", "github.com:443=http://m", "https://github.com:443/a", "http://m/a"),
        ("", "garbage, =x", "https://github.com/a", "https://github.com/a"),
    ],
)
def test_resolve_url(
    monkeypatch: pytest.MonkeyPatch, base: str, host_map: str, url: str, expected: str
) -> None:
    monkeypatch.setenv(download.BASE_URL_ENV, base)
    monkeypatch.setenv(download.HOST_MAP_ENV, host_map)
    assert resolve_url(url) == expected


def test_download_through_base_url(
    server: Server, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(download.BASE_URL_ENV, server.url("/mirror"))
    server.behaviour.redirects = {"/mirror/models/latest.pth": "/mirror/models/v2.pth"}
    url = "https://models.example.invalid/models/latest.pth"
    assert download_file(url, dest, sha256=DATA_SHA) == DATA_SHA
    paths = [p for p, _ in server.behaviour.requests]
    assert paths == ["/mirror/models/latest.pth", "/mirror/models/v2.pth"]


def test_download_through_host_map(
    server: Server, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(download.HOST_MAP_ENV, f"github.com={server.url('/gh')}")
    url = "https://github.com/owner/repo/releases/download/v1/w.pth"
    assert download_file(url, dest, sha256=DATA_SHA) == DATA_SHA
    assert server.behaviour.requests[0][0] == "/gh/owner/repo/releases/download/v1/w.pth"
