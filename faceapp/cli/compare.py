"""The `compare` command: one face through every installed face model, side by side."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def add_compare_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="run one face through several models and write the results side by side",
        description="Restore face I of IMAGE (numbers as `detect` prints them) with every "
        "installed face model, CodeFormer-like models at several fidelities, and write each "
        "result (the aligned face) plus a contact sheet into DIR.",
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--face", type=int, required=True, metavar="I", help="the face's number")
    p.add_argument(
        "--models", metavar="ID,ID", help="model ids or files (default: every installed one)"
    )
    p.add_argument(
        "--fidelities",
        type=_fidelities,
        default=(0.3, 0.6, 0.9),
        metavar="F,F",
        help="for models with a fidelity control (default 0.3,0.6,0.9)",
    )
    p.add_argument("-o", "--output-dir", type=Path, required=True, metavar="DIR")
    p.add_argument("--mask", choices=("auto", "oval"), default="auto", help=argparse.SUPPRESS)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--json", action="store_true", help="print the files written as JSON")


def _fidelities(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a list of numbers") from None
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"{text}: fidelities go from 0 to 1")
    return values


def run_compare(args) -> list[Path]:
    from faceapp.api import engine_for, resolve_face_model
    from faceapp.cli.notices import warn_if_restored
    from faceapp.cli.progress import ProgressBar
    from faceapp.core.compare import compare_face, installed_face_models, original_crop
    from faceapp.core.errors import FaceappError
    from faceapp.core.photo.reading import read_photo, to_float

    models = _models(args.models, resolve_face_model, installed_face_models)
    if not models:
        raise FaceappError("No face model is installed: see `faceapp-cli models list`.")
    photo = read_photo(args.image)
    warn_if_restored(args.image, photo)
    engine = engine_for(args.device)
    faces = engine.detector().detect(photo.pixels)
    face = next((f for f in faces if f.index == args.face), None)
    if face is None:
        raise FaceappError(f"There is no face #{args.face}: {len(faces)} found (see `detect`).")
    image = to_float(photo.pixels)
    bar = ProgressBar(Path(args.image).name)
    try:
        results = compare_face(
            engine, image, face, models, args.fidelities, bar.update, mask=args.mask
        )
    finally:
        bar.close()
    written = _write(args.output_dir, original_crop(image, face), results)
    _report(args, written)
    return written


def _models(text: str | None, resolve, installed) -> list[tuple[str, Path]]:
    if not text:
        return installed()
    return [(name.strip(), resolve(name.strip())) for name in text.split(",") if name.strip()]


def _write(folder: Path, original, results) -> list[Path]:
    from faceapp.core.compare import candidate_file_name, contact_sheet
    from faceapp.core.photo.provenance import marker
    from faceapp.core.photo.reading import from_float, photo_from_array
    from faceapp.core.photo.writing import SaveOptions, save_photo

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for r in results:
        pixels = from_float(r.restored.patch.restored, np.uint8)
        save = SaveOptions(overwrite=True, software=marker(f"restored: {r.candidate.label}"))
        target = folder / candidate_file_name(r.candidate)
        written.append(save_photo(photo_from_array(pixels), target, save))
    sheet = photo_from_array(contact_sheet(original, results))
    written.append(save_photo(sheet, folder / "contact_sheet.png", SaveOptions(overwrite=True)))
    return written


def _report(args, written: list[Path]) -> None:
    if args.json:
        json.dump([str(p) for p in written], sys.stdout, indent=2)
        print()
        return
    for path in written:
        print(path)
