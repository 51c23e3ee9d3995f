"""`faceapp-cli models ...`: list, download, import, verify and remove model files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from faceapp.core import paths
from faceapp.core.errors import Cancelled, FaceappError
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.models.download import DownloadProgress

_BAR_WIDTH = 30


def add_models_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `models` and its sub-commands on an argparse sub-parsers object."""
    parser = subparsers.add_parser(
        "models",
        help="list, download, import and check model files",
        description="Manage the model files faceapp uses.",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="COMMAND", required=True)
    listing = sub.add_parser("list", help="show every known model and whether it is installed")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    download = sub.add_parser("download", help="download models from their official source")
    download.add_argument("ids", nargs="+", metavar="ID")
    imp = sub.add_parser(
        "import",
        help="add a model file you already have",
        description="Add a model file you already have. A supported file that is not the "
        "official file of a catalog model is added as a model of your own (custom).",
    )
    imp.add_argument("path", metavar="PATH")
    which = imp.add_mutually_exclusive_group()
    which.add_argument("--as", dest="as_id", metavar="ID", help="the catalog model this file is")
    which.add_argument(
        "--custom", action="store_true", help="add it as a model of your own, whatever it matches"
    )
    imp.add_argument(
        "--name", help="the name of a custom model (default: from the file name)", default=None
    )
    verify = sub.add_parser("verify", help="check installed model files")
    verify.add_argument("ids", nargs="*", metavar="ID", help="default: every installed model")
    remove = sub.add_parser("remove", help="delete a model file")
    remove.add_argument("id", metavar="ID")
    sub.add_parser("dir", help="print the model folder")


def run_models(args: argparse.Namespace) -> int:
    """Run a parsed `models` command: 0 on success, 1 on failure or cancel (one line on stderr)."""
    handler = _HANDLERS[args.models_command]
    try:
        return handler(args)
    except (KeyboardInterrupt, Cancelled):
        _error("cancelled; a partial download is kept and resumes on the next attempt")
        return 1
    except (FaceappError, OSError) as error:
        _error(str(error))
        return 1


def _error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


# ---------------------------------------------------------------------------------- commands


def _list(args: argparse.Namespace) -> int:
    rows = model_store.model_status()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("ID", "NAME", "PURPOSE", "SIZE", "INSTALLED", "LICENCE")]
    table += [
        (r["id"], r["display_name"], _purpose(r), _size(r["size"]), _installed(r), r["licence"])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[5]]).rstrip())
    return 0


def _purpose(row: dict[str, Any]) -> str:
    task = row.get("task")
    return row["purpose"] if task in (None, "restore") else f"face {task}"


def _installed(row: dict[str, Any]) -> str:
    if row["shipped"]:
        return "built in"
    return "yes" if row["installed"] else "no"


def _download(args: argparse.Namespace) -> int:
    entries = [catalog.get_entry(model_id) for model_id in args.ids]
    failures = 0
    for entry in entries:
        try:
            _download_one(entry)
        except Cancelled:
            raise
        except FaceappError as error:
            _error(f"{entry.id}: {error}")
            failures += 1
    return 1 if failures else 0


def _download_one(entry: catalog.CatalogEntry) -> None:
    bar = _ProgressBar(entry, sys.stderr)
    try:
        path = model_store.download_model(entry.id, progress=bar)
    finally:
        bar.close()
    state = "downloaded" if bar.started else "already installed"
    print(f"{entry.id}: {state}: {path}")


def _import(args: argparse.Namespace) -> int:
    entry, dest = model_store.import_model(
        args.path, as_id=args.as_id, name=args.name, custom=args.custom
    )
    if entry.imported:
        print(f"Imported '{args.path}' as {entry.display_name}, id {entry.id}: {dest}")
        print(f"Remove it with: faceapp-cli models remove {entry.id}")
        return 0
    print(f"Imported '{args.path}' as {entry.id} ({entry.name}): {dest}")
    if entry.licence:
        print(f"Licence: {entry.licence}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    results = model_store.verify(args.ids or None)
    if not results:
        print("No models are installed.")
        return 0
    width = max(len(model_id) for model_id, _, _ in results)
    for model_id, ok, message in results:
        print(f"{'ok' if ok else 'FAILED':<6}  {model_id:<{width}}  {message}")
    failed = sum(not ok for _, ok, _ in results)
    if failed:
        _error(f"{failed} of {len(results)} models failed verification")
    return 1 if failed else 0


def _remove(args: argparse.Namespace) -> int:
    path = model_store.remove(args.id)
    print(f"Removed {args.id} ({path}).")
    return 0


def _dir(_args: argparse.Namespace) -> int:
    print(paths.models_dir())
    return 0


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _list,
    "download": _download,
    "import": _import,
    "verify": _verify,
    "remove": _remove,
    "dir": _dir,
}


# ---------------------------------------------------------------------------------- output


class _ProgressBar:
    """A one-line progress bar, announced (with the licence) at the first progress report."""

    def __init__(self, entry: catalog.CatalogEntry, stream: TextIO) -> None:
        self.entry = entry
        self.stream = stream
        self.started = False

    def __call__(self, progress: DownloadProgress) -> None:
        if not self.started:
            self.started = True
            licence = f" (licence: {self.entry.licence})" if self.entry.licence else ""
            print(f"Downloading {self.entry.name}{licence}", file=self.stream)
        self.stream.write("\r" + _bar_line(progress))
        self.stream.flush()

    def close(self) -> None:
        if self.started:
            self.stream.write("\n")
            self.stream.flush()


def _bar_line(progress: DownloadProgress) -> str:
    speed = f"{_size(int(progress.bytes_per_second))}/s"
    if not progress.total:
        return f"  {_size(progress.downloaded)}  {speed}"
    fraction = min(progress.downloaded / progress.total, 1.0)
    filled = "#" * int(fraction * _BAR_WIDTH)
    sizes = f"{_size(progress.downloaded)} of {_size(progress.total)}"
    return f"  [{filled:<{_BAR_WIDTH}}] {fraction:4.0%}  {sizes}  {speed}   "


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"
