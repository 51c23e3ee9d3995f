"""GPEN's two other skills on the faces of a photo: colouring grey faces, completing damaged ones.

Both run the network on the face aligned at the model's size (1024 for the released files) and
change the photo in place: completion before restoration (the restored face is then built from
a whole face), colouring after it (the colour goes onto the restored detail, whose luminance is
kept). The maths of each lives in faces/colouring.py and faces/completion.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from faceapp.core.faces.alignment import alignment_matrix, warp_face
from faceapp.core.faces.colouring import (
    GREY_SIZE,
    FaceColour,
    grey_input,
    keep_luminance,
    luma,
)
from faceapp.core.faces.completion import damage_in_face, paint_white, paste_completed
from faceapp.core.faces.selection import Face
from faceapp.core.models.loading import FaceModel
from faceapp.core.progress import CancelToken
from faceapp.core.runtime.engine import Engine

OnFace = Callable[[int], None]


def face_colours(
    engine: Engine,
    model: FaceModel | None,
    image: np.ndarray,
    faces: list[Face],
    choices: list[str],
    cancel: CancelToken | None = None,
) -> list[FaceColour]:
    """Each face's colour by its choice ("gpen": GPEN-Colorization's, needs `model`; "grey":
    neutral; "picture": none), computed from `image` (float RGB) but not applied: the caller
    lays them over the picture's colour (colouring.apply_face_colours), now and on every
    re-compose, without the network."""
    colours = []
    for i, (face, choice) in enumerate(zip(faces, choices, strict=True)):
        _step(i, None, cancel)
        if choice == "grey":
            matrix = alignment_matrix(face.landmarks, GREY_SIZE)
            colours.append(FaceColour(face.index, matrix))
        elif choice == "gpen":
            if model is None:
                raise ValueError("GPEN colour needs the GPEN-Colorization model.")
            matrix = alignment_matrix(face.landmarks, model.input_size)
            crop = warp_face(image, matrix, model.input_size)
            colours.append(FaceColour(face.index, matrix, colour_aligned_face(engine, model, crop)))
    return colours


def colour_aligned_face(engine: Engine, model: FaceModel, crop: np.ndarray) -> np.ndarray:
    """One aligned face in colour, with the crop's own luminance."""
    from faceapp.core.pipeline import run_face_model  # the pipeline imports this module

    colour = run_face_model(engine, model, grey_input(crop), 0.5)
    return keep_luminance(colour, luma(crop))


def complete_faces(
    engine: Engine,
    model: FaceModel,
    image: np.ndarray,
    faces: list[Face],
    damage: np.ndarray,
    on_face: OnFace | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Complete the damaged parts of each face (float RGB `image`, in place) with a
    GPEN-Inpainting model; `damage` is the photo's mask (H x W, > 0 = damaged). Returns how
    many faces had damage to complete."""
    completed = 0
    for i, face in enumerate(faces):
        _step(i, on_face, cancel)
        matrix = alignment_matrix(face.landmarks, model.input_size)
        damaged = damage_in_face(damage, matrix, model.input_size)
        if not damaged.any():
            continue
        crop = warp_face(image, matrix, model.input_size)
        output = complete_aligned_face(engine, model, crop, damaged)
        paste_completed(image, output, matrix, damaged)
        completed += 1
    return completed


def complete_aligned_face(
    engine: Engine, model: FaceModel, crop: np.ndarray, damaged: np.ndarray
) -> np.ndarray:
    """The network's completion of one aligned face whose damaged pixels are painted white."""
    from faceapp.core.pipeline import run_face_model  # the pipeline imports this module

    return run_face_model(engine, model, paint_white(crop, damaged), 0.5)


def _step(index: int, on_face: OnFace | None, cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
    if on_face is not None:
        on_face(index)
