"""The one-call Python API, for scripts and notebooks.

import faceapp
result = faceapp.restore("grandma.jpg", model="gfpgan-1.4", strength=0.8)
result.image  # H x W x 3 RGB numpy array, same dtype as the input
result.faces  # the faces found, each with box, score and landmarks

result = faceapp.restore("scan.tif", repair="auto", colorize=True, faces="none")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.core.face_settings import (
    FaceSettings,
    face_settings_from_mapping,
    parse_face_settings,
)
from faceapp.core.faces.selection import Face, parse_selection
from faceapp.core.photo.reading import Photo, photo_from_array, read_mask, read_photo
from faceapp.core.pipeline import RestoreOptions, restore_aligned, restore_photo
from faceapp.core.progress import CancelToken, ProgressCallback, no_progress
from faceapp.core.runtime.engine import Engine

_engines: dict[tuple[str, str, str], Engine] = {}


@dataclass
class Restoration:
    image: np.ndarray  # RGB (or RGBA when the input had alpha)
    faces: list[Face]


def restore(
    image: str | os.PathLike | np.ndarray,
    model: str | None = None,
    *,
    model_file: str | os.PathLike | None = None,
    strength: float = 1.0,
    fidelity: float = 0.5,
    faces: str = "all",
    face_settings: str | Mapping[int, Mapping[str, object]] | None = None,
    upscale: int = 1,
    background: str = "lanczos",
    bg_model: str | None = None,
    bg_model_file: str | os.PathLike | None = None,
    aligned: bool = False,
    face_colorize: str | os.PathLike | None = None,
    face_complete: str | os.PathLike | None = None,
    repair: str | os.PathLike | np.ndarray = "none",
    repair_model: str = "opencv",
    repair_model_file: str | os.PathLike | None = None,
    colorize: bool = False,
    colorize_model: str | None = None,
    colorize_model_file: str | os.PathLike | None = None,
    color_strength: float = 1.0,
    colorize_size: int = 512,
    device: str = "auto",
    runtime: str = "auto",
    precision: str = "exact",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Restoration:
    """Restore the faces in a photo (a path, or an H x W [x 3|4] array: uint8, uint16 or float
    in [0, 1]). `model` is a catalog id (default: the recommended model); `model_file` a file.
    `faces`: "all", "auto" (the faces whose quality estimate says they need it), "largest",
    "center", "none" or "0,2". `face_settings` gives faces their own model, strength, fidelity
    and colour (gpen, picture or grey):
    {0: {"model": "codeformer", "fidelity": 0.7}, 2: {"colour": "grey"}}, or the CLI's text
    "0:model=codeformer,fidelity=0.7;2:strength=0.5", or a JSON file's path.
    `face_colorize` / `face_complete`: "gpen" (the catalog's GPEN-Colorization / -Inpainting
    1024) or a model file; completion fills the faces' part of the `repair` mask (below).
    faces="none" restores no face while those steps run.
    `repair`: "none", "auto" (find scratches and dust) or a damage mask (a path or an array,
    non-zero = damage), filled with `repair_model` "opencv" (built in) or "lama" (or
    `repair_model_file`). `colorize=True` colours the whole photo with DDColor
    (`colorize_model` id or `colorize_model_file`) at `color_strength` (0 = grey, 1 = the
    model's colour), the network working at `colorize_size` pixels square.
    `runtime` auto|torch|openvino and `precision` exact|fast as on the command line."""
    photo = image_to_photo(image)
    selection = parse_selection(faces)
    face_path = resolve_model_file(model, model_file, default=selection != "none")
    engine = engine_for(device, runtime, precision)
    bg_path = resolve_model_file(bg_model, bg_model_file, default=False)
    per_face = _per_face(face_settings)
    options = RestoreOptions(
        face_model=face_path,
        strength=strength,
        fidelity=fidelity,
        faces=selection,
        upscale=upscale,
        background="model" if bg_path else background,
        background_model=bg_path,
        **face_colour_fields(_gpen_skill_file(face_colorize, "gpen-colorization-1024"), per_face),
        face_complete_model=_gpen_skill_file(face_complete, "gpen-inpainting-1024"),
        per_face=per_face,
        **old_photo_options(
            repair,
            repair_model,
            repair_model_file,
            _colour_choice(colorize, colorize_model, colorize_model_file),
            color_strength,
            colorize_size,
        ),
    )
    if aligned:
        out = restore_aligned(engine, photo, face_path, strength, fidelity, options)
        return Restoration(_as_array(out), [])
    result = restore_photo(engine, photo, options, progress, cancel, keep_background=False)
    return Restoration(_as_array(result.photo), result.faces)


def old_photo_options(
    repair: str | os.PathLike | np.ndarray,
    repair_model: str = "opencv",
    repair_model_file: str | os.PathLike | None = None,
    colorize: str | os.PathLike | bool | None = None,
    color_strength: float = 1.0,
    colorize_size: int = 512,
) -> dict:
    """RestoreOptions fields for repair and colour, from what a user passes (CLI or API).

    `colorize`: None/False for no colour, True for the recommended model, a catalog id, or a
    file (a path object or an existing file)."""
    fields: dict = {"color_strength": color_strength, "colorize_size": colorize_size}
    fields.update(_repair_fields(repair, repair_model, repair_model_file))
    if colorize is not None and colorize is not False:
        fields["colorize_model"] = _colorize_file(colorize)
    return fields


def _colour_choice(colorize: bool, model_id: str | None, model_file) -> Path | str | bool:
    """A file, a catalog id, True (the recommended model) or False; a model implies colour."""
    if model_file is not None:
        return Path(model_file)
    return model_id or bool(colorize)


def _repair_fields(repair, method: str, model_file) -> dict:
    from faceapp.core.models.store import require_model

    if method not in ("opencv", "lama"):
        raise ValueError("The repair model must be 'opencv' or 'lama'.")
    if isinstance(repair, np.ndarray):
        fields = {"repair": "mask", "repair_mask": repair}
    elif str(repair) in ("none", "auto"):
        fields = {"repair": str(repair)}
    else:
        fields = {"repair": "mask", "repair_mask": read_mask(repair)}
    if fields["repair"] != "none":
        if model_file is not None:
            fields["repair_model"] = Path(model_file)
        elif method == "lama":
            fields["repair_model"] = require_model("lama-big")
    return fields


def _colorize_file(colorize: str | os.PathLike | bool) -> Path:
    from faceapp.core.models.catalog import COLOUR, default_model
    from faceapp.core.models.store import require_model

    if colorize is True:
        return require_model(default_model(COLOUR))
    if isinstance(colorize, os.PathLike):
        return Path(colorize)
    return require_model(str(colorize))


def detect(image: str | os.PathLike | np.ndarray, device: str = "auto") -> list[Face]:
    photo = image_to_photo(image)
    return engine_for(device).detector().detect(photo.pixels)


def image_to_photo(image: str | os.PathLike | np.ndarray) -> Photo:
    if isinstance(image, np.ndarray):
        return photo_from_array(image)
    return read_photo(image)


def resolve_model_file(model_id: str | None, model_file, default: bool) -> Path | None:
    """A catalog id or a file path to the file to load (None when neither and no default)."""
    if model_file is not None:
        return Path(model_file)
    from faceapp.core.models.catalog import default_face_model
    from faceapp.core.models.store import require_model

    if model_id is None and default:
        model_id = default_face_model()
    return require_model(model_id) if model_id else None


def face_colour_fields(colour_file: Path | None, per_face: Mapping[int, FaceSettings]) -> dict:
    """RestoreOptions' face colour fields: a GPEN-Colorization file given colours every face
    (unless a face chose otherwise); without one, faces that chose "gpen" get the installed
    gpen-colorization-1024 and the others keep the picture's colour."""
    if colour_file is not None:
        return {"face_colour_model": colour_file, "face_colour": "gpen"}
    if any(s.colour == "gpen" for s in per_face.values()):
        path = resolve_model_file("gpen-colorization-1024", None, default=False)
        return {"face_colour_model": path, "face_colour": "picture"}
    return {}


def _gpen_skill_file(choice: str | os.PathLike | None, model_id: str) -> Path | None:
    if choice is None:
        return None
    if str(choice) == "gpen":
        return resolve_model_file(model_id, None, default=False)
    return Path(choice)


def resolve_face_model(text: str) -> Path:
    """A per-face model: an existing file, else a catalog id (which must be installed)."""
    path = Path(text).expanduser()
    if path.is_file():
        return path
    try:
        return resolve_model_file(text, None, default=False)
    except KeyError as error:  # UnknownModelError
        raise ValueError(str(error.args[0] if error.args else error)) from None


def _per_face(settings) -> dict[int, FaceSettings]:
    if settings is None:
        return {}
    if isinstance(settings, str | os.PathLike):
        return parse_face_settings(str(settings), resolve_face_model)
    return face_settings_from_mapping(settings, resolve_face_model)


def engine_for(device: str, runtime: str = "auto", precision: str = "exact") -> Engine:
    """Engines are kept per device and runtime so repeated calls keep the models loaded."""
    key = (device, runtime, precision)
    if key not in _engines:
        _engines[key] = Engine(device, runtime, precision)
    return _engines[key]


def _as_array(photo: Photo) -> np.ndarray:
    if photo.alpha is None:
        return photo.pixels
    return np.dstack([photo.pixels, photo.alpha])
