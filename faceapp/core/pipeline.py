"""The restoration job: detect, align, restore, upscale the background, paste back.

The stages are separate functions so the GUI can re-run only what changed: a new strength only
re-composes (`compose`), a new fidelity only re-runs the network on the faces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from faceapp.core.background import lanczos, upscale_with_model
from faceapp.core.errors import FaceappError
from faceapp.core.faces.alignment import alignment_matrix, warp_face
from faceapp.core.faces.parsing import parsing_mask
from faceapp.core.faces.paste import FacePatch, paste_faces
from faceapp.core.faces.selection import Face, FaceSelection, select_faces
from faceapp.core.models.loading import FaceModel
from faceapp.core.photo.reading import Photo, from_float, to_float
from faceapp.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from faceapp.core.runtime.engine import Engine

UPSCALES = (1, 2, 3, 4)
MASKS = ("auto", "oval")  # auto: the face's outline from face parsing when installed


@dataclass(frozen=True)
class RestoreOptions:
    face_model: Path | None = None  # None: faces are left as they are
    strength: float = 1.0  # 0 = original face, 1 = fully restored
    fidelity: float = 0.5  # CodeFormer only: 0 = quality, 1 = identity
    faces: FaceSelection = "all"
    upscale: int = 1
    background: str = "lanczos"  # "lanczos", "none" or "model"
    background_model: Path | None = None
    mask: str = "auto"  # "auto" or "oval", see MASKS

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0 or not 0.0 <= self.fidelity <= 1.0:
            raise ValueError("Strength and fidelity go from 0 to 1.")
        if self.upscale not in UPSCALES:
            raise ValueError("The upscale factor must be 1, 2, 3 or 4.")
        if self.upscale > 1 and self.background == "none":
            raise ValueError("To upscale, choose a background method (Lanczos or a model).")
        if self.background == "model" and self.background_model is None:
            raise ValueError("A background model file is needed.")
        if self.mask not in MASKS:
            raise ValueError("The blending mask must be 'auto' or 'oval'.")


@dataclass
class RestoredFace:
    face: Face
    patch: FacePatch  # network output in aligned space + the alignment
    crop: np.ndarray = field(repr=False)  # the aligned input, for before/after views


@dataclass
class RestoreResult:
    photo: Photo
    faces: list[Face]  # every face found
    restored: list[RestoredFace]  # the ones restored
    background: np.ndarray | None = field(default=None, repr=False)  # cached for re-composing


class _Stages:
    """Maps each stage's own 0..1 progress into the job's."""

    def __init__(self, progress: ProgressCallback, plan: list[tuple[str, float]]) -> None:
        total = sum(weight for _, weight in plan)
        self.progress, self.starts, start = progress, {}, 0.0
        for name, weight in plan:
            self.starts[name] = (start / total, weight / total)
            start += weight

    def report(self, stage: str, done: float, message: str) -> None:
        start, span = self.starts[stage]
        self.progress(Progress(stage, min(1.0, start + span * done), message))


def restore_photo(
    engine: Engine,
    photo: Photo,
    options: RestoreOptions,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    faces: list[Face] | None = None,
    keep_background: bool = True,
) -> RestoreResult:
    """The whole job on one photo. `faces` skips detection (the GUI passes the user's list).

    keep_background=False pastes straight onto the upscaled background and does not keep it
    (result.background is None): one full-size float image less, for callers that will not
    re-compose (the CLI, the API)."""
    cancel = cancel or CancelToken()
    stages = _Stages(progress, [("detect", 1), ("restore", 6), ("background", 2), ("paste", 1)])
    image = to_float(photo.pixels)
    if faces is None:
        stages.report("detect", 0, "Finding faces")
        faces = engine.detector().detect(photo.pixels, cancel)
    chosen = select_faces(faces, options.faces, photo.size)
    restored: list[RestoredFace] = []
    if options.face_model is not None and chosen:
        model = engine.face_model(options.face_model, progress, cancel)
        report = _face_reporter(stages, len(chosen))
        restored = restore_faces(
            engine, model, image, chosen, options.fidelity, report, cancel, options.mask
        )
    cancel.raise_if_cancelled()
    stages.report("background", 0, "Upscaling the background")
    background = upscale_background(engine, image, options, stages, cancel, keep_background)
    del image
    cancel.raise_if_cancelled()
    stages.report("paste", 0, "Blending the faces in")
    out = compose(background, restored, options.strength, options.upscale, keep_background)
    stages.report("paste", 1, "Done")
    kept = background if keep_background else None
    return RestoreResult(finish_photo(photo, out, options.upscale), faces, restored, kept)


def _face_reporter(stages: _Stages, count: int):
    def report(done: int) -> None:
        stages.report("restore", done / count, f"Restoring face {min(done + 1, count)} of {count}")

    return report


def restore_faces(
    engine: Engine,
    model: FaceModel,
    image: np.ndarray,
    faces: list[Face],
    fidelity: float,
    on_face=None,
    cancel: CancelToken | None = None,
    mask: str = "auto",
) -> list[RestoredFace]:
    """Align each face, run the network on it, keep its output in aligned space. With mask
    "auto" and a face parser installed, the restored face's outline becomes its paste-back
    mask here, once, so that re-composing stays cheap."""
    parser = engine.parser() if mask == "auto" else None
    results = []
    for i, face in enumerate(faces):
        if cancel:
            cancel.raise_if_cancelled()
        if on_face:
            on_face(i)
        matrix = alignment_matrix(face.landmarks, model.input_size)
        crop = warp_face(image, matrix, model.input_size)
        output = run_face_model(engine, model, crop, fidelity)
        blend = parsing_mask(parser, output) if parser is not None else None
        results.append(RestoredFace(face, FacePatch(output, matrix, blend), crop))
    if on_face:
        on_face(len(faces))
    return results


@torch.inference_mode()
def run_face_model(engine: Engine, model: FaceModel, crop: np.ndarray, fidelity: float):
    """One aligned crop (float RGB [0, 1]) through the network with its official mapping:
    x = 2p - 1 in, clamp(y, -1, 1) then (y + 1) / 2 out."""
    x = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))).unsqueeze(0)
    x = (x * 2 - 1).to(engine.device)
    y = model(x, fidelity)[0].float().clamp_(-1, 1)
    return ((y + 1) / 2).cpu().numpy().transpose(1, 2, 0).astype(np.float32)


def upscale_background(
    engine, image, options: RestoreOptions, stages=None, cancel=None, copy: bool = True
):
    if options.upscale == 1 or options.background == "none":
        return image.copy() if copy else image
    if options.background == "lanczos":
        return lanczos(image, options.upscale)
    model = engine.upscaler(options.background_model)

    def on_tile(done: int, total: int) -> None:
        if stages:
            stages.report("background", done / total, f"Upscaling the background ({done}/{total})")

    return upscale_with_model(
        image, model, options.upscale, engine.device, on_tile=on_tile, cancel=cancel
    )


def compose(
    background: np.ndarray,
    restored: list[RestoredFace],
    strength: float,
    scale: int,
    copy: bool = True,
) -> np.ndarray:
    """Paste the restored faces onto a copy of the (upscaled) background (onto the background
    itself with copy=False). Cheap: no network."""
    canvas = background.copy() if copy else background
    return paste_faces(canvas, [r.patch for r in restored], strength, scale)


def finish_photo(photo: Photo, image: np.ndarray, scale: int) -> Photo:
    """Back to the photo's bit depth, with its alpha (resized) and greyness."""
    pixels = _grey_pixels(image, photo.pixels.dtype) if photo.grayscale else None
    if pixels is None:
        pixels = from_float(image, photo.pixels.dtype)
    alpha = photo.alpha
    if alpha is not None and scale != 1:
        h, w = image.shape[:2]
        alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    return replace(photo, pixels=pixels, alpha=alpha)


def _grey_pixels(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Rec. 601 luma in all three channels, a band of rows at a time: a whole-image luma and
    its 3-channel repeat would be two more full-size float images (2 GB at 96 megapixels)."""
    pixels = np.empty(image.shape, dtype)
    rows = max(1, (1 << 18) // max(1, image.shape[1] * 3))
    for start in range(0, image.shape[0], rows):
        luma = image[start : start + rows] @ np.array([0.299, 0.587, 0.114], np.float32)
        pixels[start : start + rows] = from_float(luma, dtype)[..., None]
    return pixels


def restore_aligned(
    engine: Engine, photo: Photo, model_path: Path, strength: float, fidelity: float
) -> Photo:
    """An already aligned face crop: no detection, no paste-back; the output is the restored
    crop at the model's size (or the crop's own size for size-agnostic models)."""
    model = engine.face_model(model_path)
    image = to_float(photo.pixels)
    h, w = image.shape[:2]
    if h != w:
        raise FaceappError(f"An aligned face must be square; this image is {w} × {h}.")
    size = w if model.accepts(w) else model.input_size
    if size != w:
        image = cv2.resize(
            image, (size, size), interpolation=cv2.INTER_CUBIC if size > w else cv2.INTER_AREA
        )
    output = run_face_model(engine, model, image, fidelity)
    blended = strength * output + (1 - strength) * image
    return finish_photo(replace(photo, alpha=None), blended, 1)
