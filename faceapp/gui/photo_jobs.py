"""The jobs the window sends to the inference thread: thin wrappers over core functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from faceapp.core.face_preview import FacePreview
from faceapp.core.faces.quality import FaceQuality, assess_face
from faceapp.core.faces.selection import Face
from faceapp.core.models import store as model_store
from faceapp.core.photo.reading import Photo, read_photo, to_float
from faceapp.core.photo.writing import SaveOptions, save_photo
from faceapp.core.preview import PreviewCompositor
from faceapp.core.progress import Progress, run_steps
from faceapp.gui.colour_preview import ColourPreview
from faceapp.gui.inference import JobFunction
from faceapp.gui.state import RestoreRecipe

COMPLETE_MODEL = "gpen-inpainting-1024"  # "Complete damaged faces" in the window

if TYPE_CHECKING:  # the pipeline imports torch, which only the inference thread may load
    from faceapp.core.pipeline import RestoreOptions, RestoreResult


def read_job(path: Path) -> JobFunction:
    return lambda engine, progress, cancel: read_photo(path)


def open_job(path: Path, on_read: Callable[[Photo], None]) -> JobFunction:
    """Read a photo, hand it over (`on_read` is called on the inference thread), then find
    its faces: one job, so a photo's faces are found right after it is read, before any other
    photo is, and decoded photos do not pile up waiting for their turn."""
    detect: JobFunction | None = None

    def run(engine, progress, cancel) -> tuple[list[Face], list[FaceQuality]]:
        nonlocal detect
        if detect is None:  # not when it goes on after a pause
            photo = read_photo(path)
            on_read(photo)
            cancel.raise_if_cancelled()
            detect = detect_job(photo)
        return detect(engine, progress, cancel)

    return run


def detect_job(photo: Photo) -> JobFunction:
    """The faces and their quality estimates (a few ms a face, on the same thread). Between
    steps it pauses (inference.Paused) when a more urgent job waits, and goes on from there
    when run again: a crowd does not hold back a portrait."""
    steps = None

    def run(engine, progress, cancel) -> tuple[list[Face], list[FaceQuality]]:
        nonlocal steps
        steps = steps or engine.detector().detect_steps(photo.pixels)

        def report(done: Progress) -> None:
            progress(done)
            pause = getattr(cancel, "raise_if_paused", None)
            if pause is not None and done.fraction < 1:
                pause()

        faces = run_steps(steps, cancel, report)
        return faces, [assess_face(photo.pixels, f) for f in faces]

    return run


def face_in_box_job(photo: Photo, box: tuple[float, float, float, float]) -> JobFunction:
    return lambda engine, progress, cancel: engine.detector().detect_in_box(photo.pixels, box)


def options_for(
    recipe: RestoreRecipe,
    strength: float,
    per_face: dict | None = None,
    colour_strength: float = 1.0,
    damage: np.ndarray | None = None,
) -> RestoreOptions:
    """Core options from the window's choices; raises ModelNotInstalledError in plain words.
    `damage`: the photo's damage mask (255 = damaged), copied: the window may paint on while
    the job runs."""
    from faceapp.api import face_colour_fields
    from faceapp.core.pipeline import RestoreOptions

    background, background_model = "lanczos", None
    colour = recipe.colour_model
    if recipe.upscale > 1 and recipe.background != "lanczos":
        background, background_model = "model", model_store.require_model(recipe.background)
    per_face = per_face or {}
    return RestoreOptions(
        face_model=model_store.require_model(recipe.model_id),
        strength=strength,
        fidelity=recipe.fidelity,
        upscale=recipe.upscale,
        background=background,
        background_model=background_model,
        per_face=per_face,
        colorize_model=colour and model_store.require_model(colour),
        color_strength=colour_strength,
        **face_colour_fields(None, per_face),
        **_damage_fields(recipe, damage),
    )


def _damage_fields(recipe: RestoreRecipe, damage: np.ndarray | None) -> dict:
    """Repair of the marked damage, and GPEN completion of the faces under it. Completing
    needs the core's repair step (it maps the mask into each face), so with repair switched
    off the marked damage is still repaired, by the built-in method."""
    if damage is None or (recipe.repair is None and recipe.complete is None):
        return {}
    method = recipe.repair[0] if recipe.repair is not None else "opencv"
    fields = {
        "repair": "mask",
        "repair_mask": damage.copy(),
        "repair_model": None if method == "opencv" else model_store.require_model(method),
    }
    if recipe.complete is not None:
        fields["face_complete_model"] = model_store.require_model(COMPLETE_MODEL)
    return fields


def restore_job(
    photo: Photo, faces: list[Face], options: RestoreOptions, chosen: dict | None = None
) -> JobFunction:
    """The whole restoration, plus the preview compositor (built here: it copies big arrays).
    Faces with a result `chosen` in Compare (index -> RestoredFace) are not run again."""
    chosen = chosen or {}

    def run(engine, progress, cancel) -> tuple[RestoreResult, PreviewCompositor]:
        from faceapp.core.pipeline import restore_photo

        others = [f for f in faces if f.index not in chosen]
        result = restore_photo(
            engine, photo, options, progress, cancel, faces=others, coloured=faces
        )
        if chosen:
            result = with_chosen(photo, result, faces, chosen, options)
        return result, _compositor(result, options)

    return run


def refine_job(source: Photo, result: RestoreResult, options: RestoreOptions) -> JobFunction:
    """A new fidelity: run the network again on the same faces; the background is kept."""

    def run(engine, progress, cancel) -> tuple[RestoreResult, PreviewCompositor]:
        from faceapp.core.pipeline import restore_faces

        model = engine.face_model(options.face_model)
        faces = [r.face for r in result.restored]
        image = to_float(source.pixels)
        restored = restore_faces(engine, model, image, faces, options.fidelity, None, cancel)
        pairs = zip(restored, result.restored, strict=True)
        kept = [replace(new, strength=old.strength) for new, old in pairs]
        refined = replace(result, restored=kept)
        return refined, _compositor(refined, options)

    return run


def with_chosen(photo: Photo, result, faces: list[Face], chosen: dict, options):
    """The result with the faces picked in Compare added, each at its own strength."""
    from faceapp.core.pipeline import compose, finish_photo, lay_colours

    restored = list(result.restored)
    for face in faces:
        if face.index in chosen:
            own = options.per_face.get(face.index)
            restored.append(replace(chosen[face.index], strength=own.strength if own else None))
    order = {f.index: n for n, f in enumerate(faces)}
    restored.sort(key=lambda r: order.get(r.face.index, len(order)))
    image = compose(result.background, restored, options.strength, options.upscale)
    image = lay_colours(image, result, options.color_strength)
    photo = replace(photo, grayscale=result.photo.grayscale)
    return replace(result, restored=restored, photo=finish_photo(photo, image, options.upscale))


def _compositor(result: RestoreResult, options: RestoreOptions):
    return make_preview(result, options.upscale, options.strength, options.color_strength)


def make_preview(
    result: RestoreResult, upscale: int, strength: float, colour_strength: float = 1.0
):
    """The one-strength compositor, or the per-face one once a face has its own strength;
    a colorized result's is wrapped to lay the kept colour over it."""
    patches = [r.patch for r in result.restored]
    strengths = [r.strength for r in result.restored]
    if any(s is not None for s in strengths):
        compositor = FacePreview(result.background, patches, upscale, strengths)
    else:
        compositor = PreviewCompositor(result.background, patches, upscale)
    compositor.render(strength)
    if result.colour is not None or result.face_colours:
        return ColourPreview(compositor, result.colour, colour_strength, result.face_colours)
    return compositor


def export_job(
    source: Photo,
    result: RestoreResult,
    strength: float,
    upscale: int,
    target: Path,
    save: SaveOptions,
    colour_strength: float = 1.0,
) -> JobFunction:
    def run(engine, progress, cancel) -> Path:
        from faceapp.core.pipeline import compose, finish_photo, lay_colours

        cancel.raise_if_cancelled()
        image = compose(result.background, result.restored, strength, upscale)
        image = lay_colours(image, result, colour_strength)
        photo = replace(source, grayscale=source.grayscale and result.photo.grayscale)
        out = finish_photo(photo, image, upscale)
        cancel.raise_if_cancelled()
        return save_photo(out, target, save, source=source.path)

    return run
