"""The model folder: which catalog models are installed; download, import, verify, remove.

Files live in ``paths.models_dir()`` under their catalog file name (never in site-packages or
the working directory); the built-in detector is read from the app's resources.

Trust: a catalog entry's pinned SHA-256 is the reference for its file. For an entry without
one, the hash of the first completed download is recorded in ``hashes.json`` and becomes the
reference that later downloads and imports must match. Imports of such entries record their
hash too, but only so that :func:`verify` can notice a damaged file later; an imported file never
becomes the reference for what a download should be.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faceapp.core import paths
from faceapp.core.errors import (
    ChecksumError,
    DownloadError,
    FaceappError,
    ModelNotInstalledError,
    UnsupportedModelError,
)
from faceapp.core.models import catalog
from faceapp.core.models.catalog import (
    BACKGROUND,
    COLOUR,
    FACE,
    IMPORTABLE,
    INPAINT,
    CatalogEntry,
)
from faceapp.core.models.download import ProgressFn, download_file, sha256_file
from faceapp.core.progress import CancelToken

if TYPE_CHECKING:
    from faceapp.core.models.loading import ModelFileInfo

HASHES_FILE = "hashes.json"
_FROM_DOWNLOAD = "download"
_FROM_IMPORT = "import"
_COPY_BLOCK = 1024 * 1024


class ModelStoreError(FaceappError):
    """A model-folder operation was refused (e.g. removing the built-in detector)."""


class ModelImportError(ModelStoreError):
    """A file is a usable model but cannot be matched to a catalog entry."""


# ---------------------------------------------------------------------------------- lookups


def installed_path(model_id: str) -> Path | None:
    """Where the model's file is, or None when it is not installed."""
    return installed_file(catalog.get_entry(model_id))


def installed_file(entry: CatalogEntry) -> Path | None:
    """installed_path() for an entry already in hand (no new catalog read)."""
    if entry.shipped:
        path = paths.resource("weights", entry.file_name)
    else:
        path = paths.models_dir() / entry.file_name
    return path if path.is_file() else None


def require_model(model_id: str) -> Path:
    """The model's file; ModelNotInstalledError saying how to get it when it is missing."""
    entry = catalog.get_entry(model_id)
    path = installed_file(entry)
    if path is None:
        raise ModelNotInstalledError(_not_installed_message(entry))
    return path


def model_status() -> list[dict[str, Any]]:
    """One JSON-ready dict per catalog entry, for listings."""
    return [_status(entry) for entry in catalog.catalog()]


def _status(entry: CatalogEntry) -> dict[str, Any]:
    path = installed_file(entry)
    return {
        "id": entry.id,
        "name": entry.name,
        "purpose": entry.purpose,
        "task": entry.task if entry.purpose == FACE else None,
        "arch": entry.arch,
        "size": path.stat().st_size if path else entry.size,
        "installed": path is not None,
        "path": str(path) if path else None,
        "downloadable": entry.downloadable,
        "licence": entry.licence,
        "commercial_use": entry.commercial_use,
        "sha256_source": entry.sha256_source,
        "recommended": entry.recommended,
        "shipped": entry.shipped,
        "custom": entry.custom,
        "display_name": entry.display_name,
        "description": entry.description,
    }


def _not_installed_message(entry: CatalogEntry) -> str:
    head = f"The model '{entry.name}' ({entry.id}) is not installed."
    import_hint = f"faceapp-cli models import PATH --as {entry.id}"
    if entry.downloadable:
        return f"{head} Get it with: faceapp-cli models download {entry.id} (or {import_hint})."
    if entry.shipped:
        return f"{head} It ships with faceapp: reinstall the app."
    return f"{head} {entry.description} Import it with: {import_hint}."


# ---------------------------------------------------------------------------------- hashes


def reference_hash(entry: CatalogEntry) -> str | None:
    """The hash a file must have to be this model: pinned, or recorded at first download."""
    return _reference(entry, _read_hashes())


def _reference(entry: CatalogEntry, records: dict[str, dict[str, Any]]) -> str | None:
    if entry.sha256:
        return entry.sha256
    record = records.get(entry.id, {})
    return record.get("sha256") if record.get("source") == _FROM_DOWNLOAD else None


def _integrity_hash(entry: CatalogEntry) -> str | None:
    """The hash the installed file should still have (the reference, else its import hash)."""
    if entry.sha256:
        return entry.sha256
    return _read_hashes().get(entry.id, {}).get("sha256")


def _hashes_path() -> Path:
    return paths.models_dir() / HASHES_FILE


def _read_hashes() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(_hashes_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ModelStoreError(f"Cannot read {_hashes_path()}: {error}.") from error
    models = data.get("models") if isinstance(data, dict) else None
    return models if isinstance(models, dict) else {}


def _record_hash(entry: CatalogEntry, sha256: str, source: str) -> None:
    records = _read_hashes()
    records[entry.id] = {
        "sha256": sha256,
        "source": source,
        "file_name": entry.file_name,
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    _write_hashes(records)


def _forget_hash(model_id: str) -> None:
    records = _read_hashes()
    if records.get(model_id, {}).get("source") == _FROM_IMPORT:
        del records[model_id]
        _write_hashes(records)


def _write_hashes(records: dict[str, dict[str, Any]]) -> None:
    text = json.dumps({"version": 1, "models": records}, indent=2, sort_keys=True)
    target = _hashes_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hashes-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------- download


def download_model(
    model_id: str, progress: ProgressFn | None = None, cancel: CancelToken | None = None
) -> Path:
    """Download a catalog model into the model folder (resuming a partial download).

    An installed file that still has the hash it was stored with is kept and nothing is
    downloaded; a damaged one is replaced.
    The official URL is tried first, then the entry's other URLs on network failures.
    """
    entry = catalog.get_entry(model_id)
    if entry.shipped:
        return require_model(model_id)
    if not entry.urls:
        raise ModelStoreError(
            f"{entry.name} ({entry.id}) has no download address. {entry.description}"
        )
    dest = paths.models_dir() / entry.file_name
    if dest.is_file() and _still_intact(entry, dest, cancel):
        return dest
    expected = reference_hash(entry)
    if entry.archive_member:
        digest = _download_archive(entry, dest, expected, progress, cancel)
    else:
        digest = _download_from_urls(entry, dest, expected, progress, cancel)
    if expected is None:
        _record_hash(entry, digest, _FROM_DOWNLOAD)
    return dest


def _still_intact(entry: CatalogEntry, path: Path, cancel: CancelToken | None) -> bool:
    expected = _integrity_hash(entry)
    return expected is None or sha256_file(path, cancel) == expected


def _download_from_urls(
    entry: CatalogEntry,
    dest: Path,
    expected: str | None,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> str:
    # Sizes are only trusted where the hash is pinned: a wrong single-source size would
    # make every download fail.
    size = entry.size if entry.sha256 else None
    for index, url in enumerate(entry.urls):
        try:
            return download_file(
                url, dest, sha256=expected, expected_size=size, progress=progress, cancel=cancel
            )
        except ChecksumError:
            raise
        except DownloadError:
            if index == len(entry.urls) - 1:
                raise
            if expected is None:  # a part from another server cannot be checked: start over
                dest.with_name(dest.name + ".part").unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _download_archive(
    entry: CatalogEntry,
    dest: Path,
    expected: str | None,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> str:
    """Download the zip the URLs give (checked by its own hash), keep only the model file."""
    archive = dest.with_name(dest.name + ".zip")
    zipped = dataclasses.replace(entry, sha256=entry.archive_sha256, size=None)
    _download_from_urls(zipped, archive, entry.archive_sha256, progress, cancel)
    try:
        return _extract_member(entry, archive, dest, expected)
    finally:
        archive.unlink(missing_ok=True)


def _extract_member(entry: CatalogEntry, archive: Path, dest: Path, expected: str | None) -> str:
    """Copy one member out of the zip (hashed on the way) and rename it into place."""
    with zipfile.ZipFile(archive) as zipped:
        try:
            info = zipped.getinfo(entry.archive_member)
        except KeyError:
            raise DownloadError(
                f"The download of {entry.name} holds no '{entry.archive_member}'."
            ) from None
        if entry.size is not None and info.file_size != entry.size:
            raise ChecksumError(
                f"'{entry.archive_member}' in the download of {entry.name} has "
                f"{info.file_size} bytes, {entry.size} were expected. Nothing was installed."
            )
        with zipped.open(info) as source, _staging(dest.parent) as staging:
            copy = staging / dest.name
            digest = _copy_and_hash_stream(source, copy)
            if expected is not None and digest != expected:
                raise ChecksumError(
                    f"'{entry.archive_member}' in the download of {entry.name} has SHA-256 "
                    f"{digest}, {expected} was expected. Nothing was installed."
                )
            os.replace(copy, dest)
    return digest


# ---------------------------------------------------------------------------------- import


def import_model(
    path: str | Path, as_id: str | None = None, *, name: str | None = None, custom: bool = False
) -> tuple[CatalogEntry, Path]:
    """Copy a model file the user already has into the model folder; the source is untouched.

    The architecture is read from the file itself. The catalog entry is ``as_id`` when given,
    else the entry whose reference hash the file has, else the only entry without a reference
    hash that has the file's architecture and size. A supported file that is none of those (or
    any supported file, with ``custom``) becomes a custom model: added to the user catalog under
    ``name`` (default: the file's name) with its architecture and size. A file that is not the
    expected one (ChecksumError) or cannot be matched (ModelImportError) is not stored.
    """
    source = Path(path)
    if custom and as_id is not None:
        raise ModelStoreError("A file is imported either as a catalog model or as your own.")
    forced = catalog.get_entry(as_id) if as_id is not None else None
    _check_source(source, forced)
    models = paths.models_dir()
    models.mkdir(parents=True, exist_ok=True)
    with _staging(models) as staging:
        # The copy keeps the source's name so that loader messages name the user's file.
        copy = staging / source.name
        digest = _copy_and_hash(source, copy)
        if forced is not None:
            _check_reference(forced, digest, source)
        info = _identify(copy)
        entry = None if custom else _match(copy.name, info, digest, forced)
        if entry is None:
            entry, dest = _install_custom(copy, info, name or _name_from_file(source))
        else:
            _check_format(source, entry)
            dest = models / entry.file_name
            os.replace(copy, dest)
    if reference_hash(entry) is None:
        _record_hash(entry, digest, _FROM_IMPORT)
    return entry, dest


def _name_from_file(source: Path) -> str:
    return source.stem.strip() or "custom model"


def _install_custom(copy: Path, info: ModelFileInfo, name: str) -> tuple[CatalogEntry, Path]:
    """Move the file in under a new id and record it in the user catalog (both or neither)."""
    models = paths.models_dir()
    taken = {p.stem for p in models.iterdir()}
    model_id = catalog.free_id(name, taken)
    dest = models / f"{model_id}{copy.suffix.lower()}"
    fields: dict[str, Any] = {
        "id": model_id,
        "name": " ".join(name.split()),
        "purpose": info.purpose,
        "arch": info.arch,
        "file_name": dest.name,
        "licence": "unknown (your own file)",
        "description": f"Your own {info.arch} model, imported from {copy.name}.",
    }
    if info.purpose == FACE:
        fields["input_size"] = info.input_size
        fields["has_fidelity"] = info.arch == "CodeFormer"
    elif info.purpose == BACKGROUND:
        fields["scale"] = info.scale
    os.replace(copy, dest)
    try:
        entry = catalog.add_imported_entry(fields)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return entry, dest


def _check_source(source: Path, entry: CatalogEntry | None) -> None:
    if not source.is_file():
        raise ModelStoreError(f"There is no file '{source}' to import.")
    if entry is not None and entry.purpose not in IMPORTABLE:
        raise ModelStoreError(
            f"{entry.id} is a {entry.purpose} model: only face restoration, background, "
            "inpainting and colorization models can be imported."
        )


def _check_format(source: Path, entry: CatalogEntry) -> None:
    # The loader picks the reader from the file name, which becomes the catalog's one.
    if _is_safetensors(source.name) != _is_safetensors(entry.file_name):
        raise ModelImportError(
            f"'{source.name}' and the file {entry.id} expects ({entry.file_name}) are of "
            "different formats (safetensors or not): convert it, or import it as your own "
            "model (--custom)."
        )


def _is_safetensors(name: str) -> bool:
    return name.lower().endswith(".safetensors")


@contextlib.contextmanager
def _staging(models: Path) -> Iterator[Path]:
    # Inside the model folder, so that os.replace is an atomic rename on the same disk.
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=models))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_and_hash(source: Path, dest: Path) -> str:
    with open(source, "rb") as reader:
        return _copy_and_hash_stream(reader, dest)


def _copy_and_hash_stream(reader: Any, dest: Path) -> str:
    hasher = hashlib.sha256()
    with open(dest, "xb") as writer:
        while block := reader.read(_COPY_BLOCK):
            hasher.update(block)
            writer.write(block)
        writer.flush()
        os.fsync(writer.fileno())
    return hasher.hexdigest()


def _check_reference(entry: CatalogEntry, digest: str, source: Path) -> None:
    expected = reference_hash(entry)
    if expected is not None and digest != expected:
        raise ChecksumError(
            f"'{source.name}' is not the file of {entry.name} ({entry.id}): its SHA-256 is "
            f"{digest}, {expected} was expected. Nothing was imported. If it is a model of "
            "your own, import it as one: with Models… → Import a model file… in the window, "
            "or with --custom instead of --as on the command line."
        )


def _match(
    name: str, info: ModelFileInfo, digest: str, forced: CatalogEntry | None
) -> CatalogEntry | None:
    """The catalog entry the file is; None when it fits none (it becomes a custom model)."""
    if forced is not None:
        if not _fits(forced, info):
            raise ModelImportError(
                f"'{name}' is {_describe_file(info)}, but {forced.id} is "
                f"{_describe_entry(forced)}. Choose the model this file really is."
            )
        return forced
    entries = [e for e in catalog.catalog() if e.purpose in IMPORTABLE]
    records = _read_hashes()
    references = {e.id: _reference(e, records) for e in entries}
    by_hash = [e for e in entries if references[e.id] == digest and _fits(e, info)]
    if by_hash:
        return by_hash[0]
    free = [e for e in entries if _fits(e, info) and references[e.id] is None]
    if len(free) == 1:
        return free[0]
    if len(free) > 1:
        ids = ", ".join(e.id for e in free)
        raise ModelImportError(
            f"'{name}' is {_describe_file(info)}, which fits several models ({ids}). Say which "
            "one it is: in the window with Import… on that model's row, on the command line "
            "with --as ID. Or import it as a model of your own (--custom)."
        )
    return None


def _identify(copy: Path) -> ModelFileInfo:
    from faceapp.core.models.loading import identify_model_file  # torch: only when really importing

    info = identify_model_file(copy)
    if info.purpose not in IMPORTABLE:
        extra = " faceapp ships its own face detector." if info.purpose == "detector" else ""
        raise UnsupportedModelError(
            f"'{copy.name}' seems to be {_describe_file(info)}, not a face restoration, "
            f"background upscaling, inpainting or colorization model: only those can be "
            f"imported.{extra}"
        )
    return info


def _fits(entry: CatalogEntry, info: ModelFileInfo) -> bool:
    return (
        entry.purpose == info.purpose
        and entry.arch.lower() == info.arch.lower()
        and entry.input_size in (None, info.input_size)
        and entry.scale in (None, info.scale)
    )


def _describe_file(info: ModelFileInfo) -> str:
    words = {
        FACE: "face restoration model",
        BACKGROUND: "background upscaler",
        "detector": "face detector",
        "parser": "face parsing model",
        INPAINT: "inpainting model",
        COLOUR: "colorization model",
    }[info.purpose]
    detail = _size_detail(info.input_size, info.scale)
    return f"a {info.arch} {words}{detail}"


def _describe_entry(entry: CatalogEntry) -> str:
    return f"a {entry.arch} {entry.purpose} model{_size_detail(entry.input_size, entry.scale)}"


def _size_detail(input_size: int | None, scale: int | None) -> str:
    if input_size:
        return f" ({input_size} px)"
    return f" (×{scale})" if scale else ""


# ---------------------------------------------------------------------------------- verify


def verify(ids: list[str] | None = None) -> list[tuple[str, bool, str]]:
    """(id, ok, message) for the given models, or for every installed one."""
    if ids is None:
        entries = [e for e in catalog.catalog() if installed_file(e) is not None]
    else:
        entries = [catalog.get_entry(model_id) for model_id in ids]
    return [_verify_one(entry) for entry in entries]


def _verify_one(entry: CatalogEntry) -> tuple[str, bool, str]:
    path = installed_file(entry)
    if path is None:
        return entry.id, False, "not installed"
    expected = _integrity_hash(entry)
    if expected is None:
        return _verify_by_loading(entry, path)
    digest = sha256_file(path)
    if digest == expected:
        return entry.id, True, "SHA-256 matches"
    return (
        entry.id,
        False,
        f"damaged or replaced: SHA-256 {digest[:16]}… instead of {expected[:16]}…; "
        "remove it, then download or import it again",
    )


def _verify_by_loading(entry: CatalogEntry, path: Path) -> tuple[str, bool, str]:
    from faceapp.core.models.loading import identify_model_file

    try:
        info = identify_model_file(path)
    except FaceappError as error:
        return entry.id, False, str(error)
    if not _fits(entry, info):
        return entry.id, False, f"the file is {_describe_file(info)}, not {entry.name}"
    return entry.id, True, f"loads as {_describe_file(info)} (no reference hash to compare)"


# ---------------------------------------------------------------------------------- remove


def remove(model_id: str) -> Path:
    """Delete a model's file (and any partial download); returns the path it had."""
    entry = catalog.get_entry(model_id)
    if entry.shipped:
        raise ModelStoreError(f"{entry.name} ships with faceapp and cannot be removed.")
    dest = paths.models_dir() / entry.file_name
    leftovers = [dest.with_name(dest.name + end) for end in (".part", ".zip", ".zip.part")]
    if not dest.is_file() and not any(p.is_file() for p in leftovers) and not entry.imported:
        raise ModelNotInstalledError(f"{entry.name} ({entry.id}) is not installed.")
    dest.unlink(missing_ok=True)
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    _forget_hash(entry.id)
    if entry.imported:  # a model the app added: its catalog entry goes with its file
        catalog.remove_imported_entry(entry.id)
    return dest
