"""The compiled-model cache: one folder per (model file SHA-256, runtime version, input shape).

A replaced model file has another SHA-256, so it gets a new entry; entries of a file that was
replaced or removed are pruned at the next conversion. An entry appears whole or not at all:
it is built in a temporary folder that is renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from faceapp.core.paths import cache_dir

META = "entry.json"
_HASHES = "hashes.json"
_STRAY_TEMP_S = 24 * 3600


def compiled_dir() -> Path:
    return cache_dir() / "compiled"


@dataclass(frozen=True)
class EntryKey:
    sha256: str
    runtime: str  # e.g. "openvino-2026.4.1"
    shape: tuple[int, ...]

    @property
    def name(self) -> str:
        shape = "x".join(map(str, self.shape))
        return f"{self.sha256[:20]}-{self.runtime}-{shape}"


def file_sha256(path: Path) -> str:
    """SHA-256 of a model file, remembered by (path, size, mtime) so that it is read once."""
    path = path.resolve()
    stat = path.stat()
    stamp = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    memo_path = compiled_dir() / _HASHES
    memo = _read_json(memo_path)
    if memo.get(stamp):
        return memo[stamp]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    memo = {k: v for k, v in memo.items() if not k.startswith(f"{path}|")}
    memo[stamp] = digest.hexdigest()
    _write_json(memo_path, memo)
    return memo[stamp]


def lookup(key: EntryKey) -> Path | None:
    """The entry's folder when it is complete, else None."""
    folder = compiled_dir() / key.name
    return folder if (folder / META).is_file() else None


def read_meta(folder: Path) -> dict:
    return _read_json(folder / META)


def update_meta(folder: Path, **fields: object) -> None:
    meta = read_meta(folder)
    meta.update(fields)
    _write_json(folder / META, meta)


def store(key: EntryKey, source: Path, build: Callable[[Path], dict]) -> Path:
    """Build an entry with `build(folder) -> meta` in a temporary folder, then move it into
    place. Any exception (a cancel included) removes the temporary folder and leaves nothing."""
    final = compiled_dir() / key.name
    with _temporary_folder(final) as temp:
        meta = build(temp)
        meta.update(source=str(source.resolve()), sha256=key.sha256, shape=list(key.shape))
        _write_json(temp / META, meta)
        if final.exists():  # another process won the race: theirs is as good as ours
            shutil.rmtree(final, ignore_errors=True)
        os.replace(temp, final)
    prune(keep=final)
    return final


def prune(keep: Path | None = None) -> None:
    """Remove entries whose model file is gone or has changed since, and stray temp folders."""
    root = compiled_dir()
    if not root.is_dir():
        return
    kept_source = read_meta(keep).get("source") if keep else None
    for folder in root.iterdir():
        if not folder.is_dir() or folder == keep:
            continue
        if folder.name.startswith("."):  # a conversion under way, or one killed long ago
            if time.time() - folder.stat().st_mtime > _STRAY_TEMP_S:
                shutil.rmtree(folder, ignore_errors=True)
            continue
        meta = read_meta(folder)
        source = meta.get("source")
        stale = not meta or not source or not Path(source).exists()
        replaced = source == kept_source and meta.get("sha256") != read_meta(keep).get("sha256")
        if stale or replaced:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _temporary_folder(final: Path) -> Iterator[Path]:
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    temp.mkdir()
    try:
        yield temp
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    temp.write_text(json.dumps(data, indent=1))
    os.replace(temp, path)
