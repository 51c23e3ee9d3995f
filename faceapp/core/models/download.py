"""Verified, resumable downloads of large files (model weights) over HTTP(S) with httpx.

A download is written to ``<dest>.part`` and moved onto ``dest`` (atomically, with os.replace)
only once it is complete and verified, so ``dest`` never holds a partial or damaged file.
A cancelled or failed download keeps its ``.part``: calling :func:`download_file` again with the
same ``dest`` resumes from it with an HTTP Range request. A ``.part`` that fails verification is
deleted instead. Two downloads to the same ``dest`` at once are not supported.

Environment:

- ``FACEAPP_DOWNLOAD_BASE_URL``: a mirror for every URL (see :func:`resolve_url`).
- ``FACEAPP_DOWNLOAD_HOST_MAP``: mirrors per host, ``host=base,host2=base2``.
- ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY``: honoured (httpx ``trust_env``).
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import logging
import math
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

from faceapp.core.errors import ChecksumError, DownloadError
from faceapp.core.fsync import sync_folder
from faceapp.core.progress import CancelToken

log = logging.getLogger(__name__)

BASE_URL_ENV = "FACEAPP_DOWNLOAD_BASE_URL"
HOST_MAP_ENV = "FACEAPP_DOWNLOAD_HOST_MAP"
USER_AGENT = "faceapp (model downloader)"

BACKOFF_BASE = 1.0  # seconds before the first retry, doubled for each next one; tests lower it
BACKOFF_MAX = 30.0
RETRY_AFTER_CAP = 60.0  # a server asking for a longer wait is not worth keeping the user waiting
PROGRESS_INTERVAL = 0.1  # at most ~10 progress calls a second (plus the final one)
SPEED_WINDOW = 3.0  # seconds the speed is averaged over
DISK_MARGIN = 64 * 1024 * 1024
MAX_REDIRECTS = 10
_HASH_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class DownloadProgress:
    downloaded: int  # bytes in the file so far, a resumed part included
    total: int | None  # None while the server has not said
    bytes_per_second: float  # averaged over the last few seconds


ProgressFn = Callable[[DownloadProgress], None]


# ---------------------------------------------------------------------------------- mirrors


def resolve_url(url: str) -> str:
    """The URL to fetch for ``url`` once the mirror settings of the environment are applied.

    ``FACEAPP_DOWNLOAD_HOST_MAP`` (``github.com=http://127.0.0.1:8000,example.org=http://m/x``)
    maps single hosts and wins over ``FACEAPP_DOWNLOAD_BASE_URL``, which maps all the others.
    A mirror replaces scheme, host and port, and its path goes before the URL's path: with
    ``http://127.0.0.1:8000/m``, ``https://github.com/a/b.pth?x=1`` becomes
    ``http://127.0.0.1:8000/m/a/b.pth?x=1``. URLs already on a mirror are left as they are, so
    resolving again (a redirect target, say) changes nothing.
    """
    parts = urlsplit(url)
    host_map = _host_map()
    netloc = parts.netloc.lower()
    mirror = host_map.get(netloc) or host_map.get((parts.hostname or "").lower())
    base = os.environ.get(BASE_URL_ENV, "").strip()
    if mirror is None and base:
        mirror_hosts = {urlsplit(m).netloc.lower() for m in (base, *host_map.values())}
        mirror = None if netloc in mirror_hosts else base
    return _rebase(parts, mirror) if mirror else url


def _host_map() -> dict[str, str]:
    result: dict[str, str] = {}
    for item in os.environ.get(HOST_MAP_ENV, "").split(","):
        host, sep, base = item.partition("=")
        host, base = host.strip().lower(), base.strip()
        if sep and host and base:
            result[host] = base
        elif item.strip():
            log.warning("Ignoring %s entry %r (expected host=url)", HOST_MAP_ENV, item)
    return result


def _rebase(parts: SplitResult, base: str) -> str:
    mirror = urlsplit(base)
    path = mirror.path.rstrip("/") + parts.path
    return urlunsplit((mirror.scheme, mirror.netloc, path, parts.query, ""))


# ---------------------------------------------------------------------------------- progress


class _Reporter:
    """Throttles progress calls and measures the speed over a sliding window."""

    def __init__(self, callback: ProgressFn | None) -> None:
        self._callback = callback
        self._samples: deque[tuple[float, int]] = deque()
        self._last_call = -math.inf

    def reset(self) -> None:
        self._samples.clear()

    def start(self, downloaded: int) -> None:
        self._sample(time.monotonic(), downloaded)

    def update(self, downloaded: int, total: int | None, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_call < PROGRESS_INTERVAL:
            return
        self._last_call = now
        self._sample(now, downloaded)
        if self._callback is not None:
            self._callback(DownloadProgress(downloaded, total, self._speed()))

    def _sample(self, now: float, downloaded: int) -> None:
        self._samples.append((now, downloaded))
        while len(self._samples) > 2 and now - self._samples[0][0] > SPEED_WINDOW:
            self._samples.popleft()

    def _speed(self) -> float:
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return max(d1 - d0, 0) / (t1 - t0) if t1 - t0 >= 0.05 else 0.0


# ---------------------------------------------------------------------------------- job state


class _Transient(Exception):
    """A failure worth retrying; ``kind`` picks the message shown once retries run out."""

    def __init__(self, kind: str, detail: str, retry_after: float = 0.0) -> None:
        super().__init__(detail)
        self.kind = kind  # "offline", "stall", "server" or "network"
        self.detail = detail
        self.retry_after = retry_after


@dataclass
class _Job:
    url: str
    dest: Path
    client: httpx.Client
    timeout: httpx.Timeout
    stall_timeout: float
    expected_size: int | None
    cancel: CancelToken | None
    reporter: _Reporter = field(default_factory=lambda: _Reporter(None))
    current_url: str = ""
    have: int = 0  # bytes in the .part, all of them fed to `hasher`
    total: int | None = None
    hasher: Any = field(default_factory=hashlib.sha256)

    @property
    def part(self) -> Path:
        return self.dest.with_name(self.dest.name + ".part")

    def restart(self) -> None:
        self.part.unlink(missing_ok=True)
        self.hasher = hashlib.sha256()
        self.have = 0
        self.total = None
        self.reporter.reset()


# ---------------------------------------------------------------------------------- public API


def download_file(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    retries: int = 4,
    stall_timeout: float = 30.0,
    connect_timeout: float = 15.0,
    client: httpx.Client | None = None,
) -> str:
    """Download ``url`` (after :func:`resolve_url`) to ``dest``; return the file's SHA-256 hex.

    Resumes from ``dest``'s ``.part`` when there is one. Transient failures (connection lost,
    no data for ``stall_timeout`` seconds, HTTP 5xx/429) are retried ``retries`` times with
    exponential backoff, each retry resuming where the previous attempt stopped; an attempt
    that gets further than any before earns a fresh set of retries. Raises DownloadError
    (ChecksumError when the file is not the expected one, its .part then deleted) or
    Cancelled (the .part kept for a later resume; cancellation is checked between chunks,
    so during a stall it takes effect when the stall timeout fires).
    """
    timeout = httpx.Timeout(stall_timeout, connect=connect_timeout)
    own_client = client is None
    client = httpx.Client(timeout=timeout, trust_env=True) if client is None else client
    job = _Job(url, Path(dest), client, timeout, stall_timeout, expected_size, cancel)
    job.reporter = _Reporter(progress)
    try:
        job.dest.parent.mkdir(parents=True, exist_ok=True)
        _prepare(job)
        _fetch_with_retries(job, retries)
        return _finish(job, sha256)
    except OSError as exc:
        raise DownloadError(f"Could not write {job.part}: {exc.strerror or exc}.") from exc
    finally:
        if own_client:
            client.close()


def sha256_file(path: Path, cancel: CancelToken | None = None) -> str:
    """SHA-256 hex digest of a file, read in blocks; ``cancel`` is checked between blocks."""
    hasher = hashlib.sha256()
    _hash_into(hasher, Path(path), cancel)
    return hasher.hexdigest()


def _hash_into(hasher: Any, path: Path, cancel: CancelToken | None) -> int:
    size = 0
    with open(path, "rb") as file:
        while block := file.read(_HASH_BLOCK):
            _check_cancel(cancel)
            hasher.update(block)
            size += len(block)
    return size


def _check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


# ---------------------------------------------------------------------------------- the steps


def _prepare(job: _Job) -> None:
    """Pick up an existing .part (hashing it) and check the disk has room for the rest."""
    if job.part.exists():
        size = job.part.stat().st_size
        if job.expected_size is not None and size > job.expected_size:
            job.restart()
        else:
            job.have = _hash_into(job.hasher, job.part, job.cancel)
            log.info("Resuming %s from byte %d", job.dest.name, job.have)
    if job.expected_size is not None:
        _check_disk(job, job.expected_size - job.have)


def _fetch_with_retries(job: _Job, retries: int) -> None:
    failures = 0
    furthest = job.have
    while True:
        _check_cancel(job.cancel)
        try:
            if _attempt(job):
                return
        except _Transient as exc:
            if job.have > furthest:
                furthest, failures = job.have, 0
            failures += 1
            if failures > retries:
                raise _final_error(job, exc, failures) from exc
            delay = _backoff(failures, exc.retry_after)
            log.info("Download attempt failed (%s); retrying in %.1f s", exc.detail, delay)
            _sleep(delay, job.cancel)


def _attempt(job: _Job) -> bool:
    """One request: True once the whole file is in the .part, False to start over at once."""
    if job.expected_size is not None and job.have == job.expected_size:
        job.total = job.have  # the .part is already complete: verification decides
        return True
    offset = job.have
    headers = {"Accept-Encoding": "identity", "User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with _translate_errors(job), contextlib.closing(_open(job, headers)) as response:
        if response.status_code == 416:
            return _on_range_not_satisfiable(job, response)
        _check_status(job, response)
        if not _position(job, response, offset):
            return False
        if job.total is not None:
            _check_disk(job, job.total - job.have)
        _stream(job, response)
    if job.total is not None and job.have < job.total:
        raise _Transient("network", f"connection closed at byte {job.have} of {job.total}")
    return True


def _open(job: _Job, headers: dict[str, str]) -> httpx.Response:
    """Send the GET, following redirects by hand so that every hop goes through resolve_url."""
    url = resolve_url(job.url)
    for _ in range(MAX_REDIRECTS + 1):
        job.current_url = url
        request = job.client.build_request("GET", url, headers=headers, timeout=job.timeout)
        response = job.client.send(request, stream=True, follow_redirects=False)
        if not response.is_redirect:
            return response
        response.close()
        url = resolve_url(str(response.url.join(response.headers["location"])))
    raise DownloadError(f"Too many redirects while downloading {job.url}.")


@contextlib.contextmanager
def _translate_errors(job: _Job) -> Iterator[None]:
    try:
        yield
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise DownloadError(f"Cannot download {job.current_url or job.url}: {exc}.") from exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise _Transient("offline", str(exc) or type(exc).__name__) from exc
    except httpx.ReadTimeout as exc:
        raise _Transient("stall", f"no data for {job.stall_timeout:g} s") from exc
    except httpx.TransportError as exc:
        raise _Transient("network", str(exc) or type(exc).__name__) from exc


def _check_status(job: _Job, response: httpx.Response) -> None:
    code = response.status_code
    if code in (200, 206):
        return
    if code in (408, 429) or code >= 500:
        raise _Transient("server", f"HTTP {code}", _retry_after(response))
    raise DownloadError(_status_message(job.current_url, code))


def _status_message(url: str, code: int) -> str:
    if code == 404:
        return f"The server has no file at {url} (HTTP 404)."
    if code == 410:
        return f"The file at {url} is no longer available (HTTP 410)."
    if code in (401, 403):
        return f"The server refused access to {url} (HTTP {code})."
    if 400 <= code < 500:
        return f"The server rejected the request for {url} (HTTP {code})."
    return f"The server answered HTTP {code} for {url} instead of the file."


def _position(job: _Job, response: httpx.Response, offset: int) -> bool:
    """Line the .part up with the response; False when the request must be sent again."""
    if response.status_code == 206:
        start, total = _content_range(response.headers.get("content-range", ""))
        if start != offset:
            job.restart()
            return False
        job.total = total if total is not None else _length(response, offset)
    else:
        if offset:
            log.info("The server ignored the Range request: starting over from zero")
            job.restart()
        job.total = _length(response, 0)
    if job.expected_size is not None and job.total not in (None, job.expected_size):
        job.restart()
        raise ChecksumError(
            f"The file at {job.current_url} is not the expected one: the server offers "
            f"{job.total} bytes, {job.expected_size} were expected."
        )
    return True


def _on_range_not_satisfiable(job: _Job, response: httpx.Response) -> bool:
    _, total = _content_range(response.headers.get("content-range", ""))  # "bytes */N"
    size = job.expected_size if job.expected_size is not None else total
    if size is not None and job.have == size:
        job.total = size
        return True
    job.restart()
    return False


def _stream(job: _Job, response: httpx.Response) -> None:
    job.reporter.start(job.have)
    with open(job.part, "ab") as file:
        for chunk in response.iter_bytes():  # as received: nothing buffered is lost on failure
            file.write(chunk)
            job.hasher.update(chunk)
            job.have += len(chunk)
            job.reporter.update(job.have, job.total)
            _check_cancel(job.cancel)


def _finish(job: _Job, sha256: str | None) -> str:
    _check_cancel(job.cancel)
    job.part.touch(exist_ok=True)  # an empty file gets no chunk, hence no .part yet
    job.reporter.update(job.have, job.total if job.total is not None else job.have, final=True)
    if job.expected_size is not None and job.have != job.expected_size:
        job.restart()
        raise ChecksumError(
            f"The downloaded file is damaged or not the expected one ({job.have} bytes, "
            f"{job.expected_size} expected). It was deleted: try the download again."
        )
    digest = job.hasher.hexdigest()
    if sha256 is not None and digest != sha256.strip().lower():
        job.restart()
        raise ChecksumError(
            "The downloaded file is damaged or not the expected one (SHA-256 mismatch: "
            f"expected {sha256.strip().lower()}, got {digest}). It was deleted: try the "
            "download again, or import a file you trust."
        )
    with open(job.part, "r+b") as file:
        os.fsync(file.fileno())
    os.replace(job.part, job.dest)
    sync_folder(job.dest.parent)
    return digest


# ---------------------------------------------------------------------------------- helpers


def _content_range(value: str) -> tuple[int | None, int | None]:
    """(start, total) of ``bytes START-END/TOTAL`` or ``bytes */TOTAL``; None where absent."""
    unit, _, spec = value.strip().partition(" ")
    if unit.lower() != "bytes":
        return None, None
    span, _, total = spec.partition("/")
    return _int_or_none(span.partition("-")[0]), _int_or_none(total)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _length(response: httpx.Response, offset: int) -> int | None:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    length = _int_or_none(response.headers.get("content-length", ""))
    # A compressed body's Content-Length says nothing about the size of the file.
    if length is None or encoding not in ("", "identity"):
        return None
    return offset + length


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _backoff(failures: int, retry_after: float) -> float:
    return max(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (failures - 1)), retry_after)


def _sleep(seconds: float, cancel: CancelToken | None) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        _check_cancel(cancel)
        time.sleep(min(left, 0.1))
    _check_cancel(cancel)


def _check_disk(job: _Job, remaining: int) -> None:
    needed = max(remaining, 0) + DISK_MARGIN
    free = shutil.disk_usage(job.dest.parent).free
    if free < needed:
        raise DownloadError(
            f"Not enough disk space in {job.dest.parent} for this download: it needs "
            f"{_size(needed)} and only {_size(free)} is free. Free some space and try again."
        )


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    return f"{n / 1024**2:.0f} MB"


def _final_error(job: _Job, exc: _Transient, attempts: int) -> DownloadError:
    host = urlsplit(job.current_url or resolve_url(job.url)).hostname or job.url
    if exc.kind == "offline":
        return DownloadError(
            f"Cannot reach {host}: you seem to be offline or the server is down. You can "
            "import the file instead: download it with a web browser, then import it."
        )
    if exc.kind == "stall":
        return DownloadError(
            f"The download stalled: no data for {job.stall_timeout:g} s from {host} "
            f"({attempts} attempts). Check your connection and try again: what was received "
            "is kept and the download will resume from there."
        )
    if exc.kind == "server":
        return DownloadError(
            f"The server {host} kept failing ({exc.detail}, {attempts} attempts). "
            "Try again later, or import the file instead."
        )
    return DownloadError(
        f"The connection to {host} kept breaking ({exc.detail}; {attempts} attempts). "
        "Try again: the download will resume from where it stopped."
    )
