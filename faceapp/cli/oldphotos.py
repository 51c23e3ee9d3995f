"""Old-photo options of `restore` (repair, colour) and the `scratches` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def add_old_photo_arguments(p: argparse.ArgumentParser) -> None:
    from faceapp.cli.main import _unit

    group = p.add_argument_group("old photos: repair and colour")
    group.add_argument(
        "--repair",
        default="none",
        metavar="none|auto|MASK.png",
        help="fill scratches and dust: auto finds them (faces are left to the face model), "
        "or give a mask image (white = damage) as written by `scratches`; default none",
    )
    method = group.add_mutually_exclusive_group()
    method.add_argument(
        "--repair-model",
        choices=("opencv", "lama"),
        default="opencv",
        help="opencv: built in, for thin scratches and dust (default); lama: LaMa, for "
        "larger damage (faceapp-cli models download lama-big)",
    )
    method.add_argument("--repair-model-file", type=Path, metavar="PATH", help="a LaMa file")
    group.add_argument("--colorize", action="store_true", help="colour a black-and-white photo")
    model = group.add_mutually_exclusive_group()
    model.add_argument("--colorize-model", metavar="ID", help="DDColor model id (implies it)")
    model.add_argument(
        "--colorize-model-file", type=Path, metavar="PATH", help="a DDColor file (implies it)"
    )
    group.add_argument(
        "--color-strength",
        type=_unit,
        default=1.0,
        help="0 = grey .. 1 = the model's colour (faces coloured by GPEN fade with it)",
    )
    group.add_argument(
        "--colorize-size",
        type=_size,
        default=512,
        metavar="N",
        help="the square the colour network works at, a multiple of 32 (default 512)",
    )
    _add_face_skills(group)


def _add_face_skills(group) -> None:
    colour = group.add_mutually_exclusive_group()
    colour.add_argument(
        "--face-colorize",
        choices=("gpen",),
        help="colour every face with GPEN-Colorization (model gpen-colorization-1024), over "
        "--colorize's colour when both are given; the photo's own light and detail are kept. "
        "One face only, or some kept grey: --face-settings '0:colour=gpen;1:colour=grey'",
    )
    colour.add_argument(
        "--face-colorize-file", type=Path, metavar="PATH", help="a GPEN-Colorization file"
    )
    complete = group.add_mutually_exclusive_group()
    complete.add_argument(
        "--face-complete",
        choices=("gpen",),
        help="complete the damaged parts of faces with GPEN-Inpainting (model "
        "gpen-inpainting-1024) before restoring them: where the --repair mask says",
    )
    complete.add_argument(
        "--face-complete-file", type=Path, metavar="PATH", help="a GPEN-Inpainting file"
    )


def old_photo_fields(args: argparse.Namespace) -> dict:
    """RestoreOptions fields for repair and colour from the parsed arguments."""
    from faceapp.api import old_photo_options

    if args.colorize_model_file is not None:
        colour: Path | str | bool = args.colorize_model_file
    else:
        colour = args.colorize_model or args.colorize
    return old_photo_options(
        args.repair,
        args.repair_model,
        args.repair_model_file,
        colour,
        args.color_strength,
        args.colorize_size,
    )


def add_scratches_parser(sub) -> None:
    p = sub.add_parser(
        "scratches",
        help="find scratches and dust: write NAME_scratches.png masks (white = damage)",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output-dir", type=Path, metavar="DIR", help="folder for the masks")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier mask")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))


def scratches_one(engine, image: str, args: argparse.Namespace) -> Path:
    """Propose the damage mask of one photo and write it next to it (or into -o DIR)."""
    from faceapp.core.photo.reading import read_photo
    from faceapp.core.repair.step import propose_mask

    photo = read_photo(image)
    faces = engine.detector().detect(photo.pixels)
    mask = propose_mask(photo.pixels, faces)
    target = _mask_path(Path(image), args.output_dir, args.overwrite)
    _write_png(mask, target)
    share = 100.0 * float(np.count_nonzero(mask)) / mask.size
    print(f"{image} -> {target} ({share:.2f} % marked)", file=sys.stdout)
    return target


def _mask_path(image: Path, folder: Path | None, overwrite: bool) -> Path:
    folder = folder or image.parent
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{image.stem}_scratches.png"
    number = 2
    while target.exists() and not overwrite:
        target = folder / f"{image.stem}_scratches-{number}.png"
        number += 1
    return target


def _write_png(mask: np.ndarray, target: Path) -> None:
    """Atomically: encoded in memory, written to a temporary file, renamed."""
    import os
    import tempfile

    import cv2

    ok, data = cv2.imencode(".png", mask)
    if not ok:
        raise OSError(f"Cannot encode the mask for {target}.")
    fd, tmp = tempfile.mkstemp(prefix=".scratches-", suffix=".png", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data.tobytes())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _size(text: str) -> int:
    value = int(text)
    if value < 32 or value % 32:
        raise argparse.ArgumentTypeError(f"{text} is not a multiple of 32")
    return value
