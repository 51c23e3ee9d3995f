"""The jobs the window sends to the inference thread: thin wrappers over core functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from faceapp.core.faces.selection import Face
from faceapp.core.models import store as model_store
from faceapp.core.photo.reading import Photo, read_photo, to_float
from faceapp.core.photo.writing import SaveOptions, save_photo
from faceapp.core.preview import PreviewCompositor
from faceapp.core.progress import Progress, run_steps
from faceapp.gui.inference import JobFunction
from faceapp.gui.state import RestoreRecipe

if TYPE_CHECKING:  # the pipeline imports torch, which only the inference thread may load
    from faceapp.core.pipeline import RestoreOptions, RestoreResult


def read_job(path: Path) -> JobFunction:
    return lambda engine, progress, cancel: read_photo(path)


def open_job(path: Path, on_read: Callable[[Photo], None]) -> JobFunction:
    """Read a photo, hand it over (`on_read` is called on the inference thread), then find
    its faces: one job, so a photo's faces are found right after it is read, before any other
    photo is, and decoded photos do not pile up waiting for their turn."""
    detect: JobFunction | None = None

    def run(engine, progress, cancel) -> list[Face]:
        nonlocal detect
        if detect is None:  # not when it goes on after a pause
            photo = read_photo(path)
            on_read(photo)
            cancel.raise_if_cancelled()
            detect = detect_job(photo)
        return detect(engine, progress, cancel)

    return run


def detect_job(photo: Photo) -> JobFunction:
    """Find the faces; between steps it pauses (inference.Paused) when a more urgent job waits,
    and goes on from there when run again: a crowd does not hold back a portrait."""
    steps = None

    def run(engine, progress, cancel) -> list[Face]:
        nonlocal steps
        steps = steps or engine.detector().detect_steps(photo.pixels)

        def report(done: Progress) -> None:
            progress(done)
            pause = getattr(cancel, "raise_if_paused", None)
            if pause is not None and done.fraction < 1:
                pause()

        return run_steps(steps, cancel, report)

    return run


def face_in_box_job(photo: Photo, box: tuple[float, float, float, float]) -> JobFunction:
    return lambda engine, progress, cancel: engine.detector().detect_in_box(photo.pixels, box)


def options_for(recipe: RestoreRecipe, strength: float) -> RestoreOptions:
    """Core options from the window's choices; raises ModelNotInstalledError in plain words."""
    from faceapp.core.pipeline import RestoreOptions

    background, background_model = "lanczos", None
    if recipe.upscale > 1 and recipe.background != "lanczos":
        background, background_model = "model", model_store.require_model(recipe.background)
    return RestoreOptions(
        face_model=model_store.require_model(recipe.model_id),
        strength=strength,
        fidelity=recipe.fidelity,
        upscale=recipe.upscale,
        background=background,
        background_model=background_model,
    )


def restore_job(photo: Photo, faces: list[Face], options: RestoreOptions) -> JobFunction:
    """The whole restoration, plus the preview compositor (built here: it copies big arrays)."""

    def run(engine, progress, cancel) -> tuple[RestoreResult, PreviewCompositor]:
        from faceapp.core.pipeline import restore_photo

        result = restore_photo(engine, photo, options, progress, cancel, faces=faces)
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
        refined = replace(result, restored=restored)
        return refined, _compositor(refined, options)

    return run


def _compositor(result: RestoreResult, options: RestoreOptions) -> PreviewCompositor:
    patches = [r.patch for r in result.restored]
    compositor = PreviewCompositor(result.background, patches, options.upscale)
    compositor.render(options.strength)
    return compositor


def export_job(
    source: Photo,
    result: RestoreResult,
    strength: float,
    upscale: int,
    target: Path,
    save: SaveOptions,
) -> JobFunction:
    def run(engine, progress, cancel) -> Path:
        from faceapp.core.pipeline import compose, finish_photo

        cancel.raise_if_cancelled()
        image = compose(result.background, result.restored, strength, upscale)
        out = finish_photo(source, image, upscale)
        cancel.raise_if_cancelled()
        return save_photo(out, target, save, source=source.path)

    return run
