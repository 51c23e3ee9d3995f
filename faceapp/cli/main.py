"""faceapp-cli: restore faces in photos from the command line (the GUI drives the same core)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from faceapp import __version__

# as faceapp.core.runtime.device.DEVICE_CHOICES (not imported: it would load torch for --help)
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps", "intel-gpu")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceapp-cli",
        description="Restore faces in damaged, blurry or low-resolution photos.",
    )
    parser.add_argument("--version", action="version", version=f"faceapp {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show tracebacks on errors and warnings of the libraries faceapp uses (these are "
        "always in the log file)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_detect(sub)
    _add_restore(sub)
    from faceapp.cli.models import add_models_parser
    from faceapp.cli.oldphotos import add_scratches_parser

    add_scratches_parser(sub)

    add_models_parser(sub)
    from faceapp.cli.evaluate import add_evaluate_parser

    add_evaluate_parser(sub)
    from faceapp.cli.compare import add_compare_parser

    add_compare_parser(sub)
    return parser


def _add_detect(sub) -> None:
    p = sub.add_parser("detect", help="list the faces found in photos")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)


def _add_restore(sub) -> None:
    p = sub.add_parser("restore", help="restore the faces in photos and save the results")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output-dir", type=Path, metavar="DIR", help="folder for results")
    out.add_argument("--output", type=Path, metavar="FILE", help="result file (one input only)")
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model", metavar="ID", help="face model id (see: models list)")
    model.add_argument("--model-file", type=Path, metavar="PATH", help="a face model file")
    p.add_argument("--strength", type=_unit, default=1.0, help="0..1 (default 1)")
    p.add_argument("--fidelity", type=_unit, default=0.5, help="CodeFormer 0..1 (default 0.5)")
    p.add_argument(
        "--faces",
        default="all",
        help="all, auto (the faces that need it, by their quality estimate), largest, center, "
        "none (no face restored; repair and colour still run) or indices like 0,2",
    )
    p.add_argument(
        "--face-settings",
        metavar="SETTINGS",
        help="per-face model, strength, fidelity and colour over the global ones, by the "
        "numbers detect prints: '0:model=codeformer,fidelity=0.7;2:strength=0.5' (model: an "
        "id or a file; colour=gpen|picture|grey for black-and-white photos: GPEN-Colorization's "
        "colour, the picture's colour, or kept grey inside a colorized picture), or a JSON "
        'file {"0": {"model": "codeformer", "fidelity": 0.7}}',
    )
    p.add_argument("--aligned", action="store_true", help="inputs are aligned face crops")
    p.add_argument(
        "--mask",
        choices=("auto", "oval"),
        default="auto",
        help="how faces are blended in: auto follows each face's outline when a face parser "
        "(parsenet or bisenet) is installed, else a soft oval; oval always uses the oval",
    )
    p.add_argument("--upscale", type=int, default=1, choices=(1, 2, 3, 4))
    bg = p.add_mutually_exclusive_group()
    bg.add_argument("--bg", choices=("lanczos", "none"), default=None)
    bg.add_argument("--bg-model", metavar="ID", help="background upscaler id")
    bg.add_argument("--bg-model-file", type=Path, metavar="PATH", help="an upscaler file")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument(
        "--runtime",
        default="auto",
        choices=("auto", "torch", "openvino"),
        help="what runs the models: auto = OpenVINO on the CPU where it converted and passed "
        "its check against PyTorch (converted once per model file), else PyTorch",
    )
    p.add_argument(
        "--precision",
        default="exact",
        choices=("exact", "fast"),
        help="exact = float32 (default); fast = bf16/fp16 where the hardware has it: "
        "faster, approximate",
    )
    p.add_argument("--format", default="auto", choices=("auto", "png", "jpg", "webp", "tiff"))
    p.add_argument("--quality", type=_quality, default=95, help="JPEG/WebP 1..100 (default 95)")
    p.add_argument("--no-metadata", action="store_true", help="do not copy EXIF/ICC/dates")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier result")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    from faceapp.cli.oldphotos import add_old_photo_arguments

    add_old_photo_arguments(p)


def _unit(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 100")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_warnings(args.debug)
    try:
        if args.command == "detect":
            return run_detect(args)
        if args.command == "restore":
            return run_restore(args, parser)
        if args.command == "scratches":
            return run_scratches(args)
        if args.command == "evaluate":
            return run_evaluate(args)
        if args.command == "compare":
            return run_compare(args)
        from faceapp.cli.models import run_models

        return run_models(args)
    except KeyboardInterrupt:
        print("Cancelled.", file=sys.stderr)
        return EXIT_FAILED


def _quiet_warnings(show: bool) -> None:
    """Third-party warnings go to the log, not into the output (shown with --debug)."""
    from faceapp.diagnostics import route_warnings, setup_logging

    with contextlib.suppress(OSError):  # an unwritable log folder must not stop the command
        setup_logging()
    route_warnings(show)


def run_detect(args) -> int:
    from faceapp.core.runtime.engine import Engine

    engine = _engine_or_none(args)
    if engine is None:
        return EXIT_FAILED
    report, failed = [], 0
    for image in args.images:
        faces = _guard(args, image, lambda image=image: _detect_one(engine, image))
        if faces is None:
            failed += 1
            continue
        report.append({"image": image, "faces": [_face_entry(f, q) for f, q in faces]})
        if not args.json:
            _print_faces(image, faces)
    if args.json:
        print(json.dumps(report, indent=2))
    assert Engine  # imported for the type only
    return EXIT_FAILED if failed else EXIT_OK


def run_scratches(args) -> int:
    from faceapp.cli.oldphotos import scratches_one

    engine = _engine_or_none(args)
    if engine is None:
        return EXIT_FAILED
    failed = 0
    for image in args.images:
        if _guard(args, image, lambda image=image: scratches_one(engine, image, args)) is None:
            failed += 1
    return EXIT_FAILED if failed else EXIT_OK


def _detect_one(engine, image: str):
    """[(face, its quality estimate)] for one photo."""
    from faceapp.cli.notices import warn_if_restored
    from faceapp.core.faces.quality import assess_face
    from faceapp.core.photo.reading import read_photo

    photo = read_photo(image)
    warn_if_restored(image, photo)
    faces = engine.detector().detect(photo.pixels)
    return [(face, assess_face(photo.pixels, face)) for face in faces]


def _face_entry(face, quality) -> dict:
    entry = face.to_dict()
    entry["quality"] = round(quality.score, 3)
    entry["quality_label"] = quality.label
    entry["needs_restoring"] = quality.needs_restoring
    return entry


def _print_faces(image: str, faces) -> None:
    print(f"{image}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
    for f, q in faces:
        x1, y1, x2, y2 = (round(v) for v in f.box)
        marks = " ".join(f"({x:.0f},{y:.0f})" for x, y in f.landmarks)
        print(
            f"  #{f.index}  box {x1},{y1},{x2},{y2}  score {f.score:.3f}  "
            f"quality {q.score:.2f} ({q.label})  landmarks {marks}"
        )


def run_evaluate(args) -> int:
    from faceapp.cli.evaluate import run_evaluate as evaluate

    return EXIT_OK if _guard(args, args.restored, lambda: evaluate(args)) else EXIT_FAILED


def run_compare(args) -> int:
    from faceapp.cli.compare import run_compare as compare

    return EXIT_OK if _guard(args, args.image, lambda: compare(args)) else EXIT_FAILED


def run_restore(args, parser: argparse.ArgumentParser) -> int:
    from faceapp.cli.restore import RestoreCommand

    if args.output and len(args.images) > 1:
        parser.error("--output takes one input; use -o DIR for several")
    try:
        command = RestoreCommand.from_args(args)
    except ValueError as error:
        parser.error(str(error))
    except Exception as error:  # noqa: BLE001 - one clear line, as for every failure
        _report(args, "faceapp-cli", error)
        return EXIT_FAILED
    failed = 0
    for image in args.images:
        if _guard(args, image, lambda image=image: command.run_one(image)) is None:
            failed += 1
    command.finish()
    return EXIT_FAILED if failed else EXIT_OK


def _engine_or_none(args):
    from faceapp.core.runtime.engine import Engine

    try:
        return Engine(args.device)
    except ValueError as error:
        _report(args, "faceapp-cli", error)
        return None


def _guard(args, image: str, work):
    """Run one input's work; on failure print one clear line (traceback with --debug)."""
    try:
        return work()
    except Exception as error:  # noqa: BLE001 - every failure becomes one line
        _report(args, image, error)
        return None


def _report(args, where: str, error: BaseException) -> None:
    from faceapp.core.errors import FaceappError

    if args.debug:
        traceback.print_exception(error)
    message = str(error) if isinstance(error, FaceappError | ValueError) else repr(error)
    print(f"error: {where}: {message}", file=sys.stderr)
