"""The restoration job: repair, detect, align, restore, upscale the background, paste back,
colour.

Repair (scratches and dust) comes first so that every later step sees a clean photo. Colour
comes last: DDColor reads only the lightness of its input, so any tint a face model gives to a
grey face is discarded, and the colour strength can be changed afterwards without running any
network again (`RestoreResult.colour` keeps the prediction; see `recolour`).

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
from faceapp.core.colour import colorize
from faceapp.core.colour.colorize import ColourPrediction
from faceapp.core.errors import FaceappError
from faceapp.core.face_settings import COLOURS, FaceSettings, PerFace, model_name
from faceapp.core.face_skills import (
    colour_aligned_face,
    complete_aligned_face,
    complete_faces,
    face_colours,
)
from faceapp.core.faces.alignment import alignment_matrix, warp_face
from faceapp.core.faces.colouring import (
    FaceColour,
    apply_face_colours,
    face_colour_strength,
    keep_luminance,
    luma,
)
from faceapp.core.faces.parsing import parsing_mask
from faceapp.core.faces.paste import FacePatch, paste_faces
from faceapp.core.faces.quality import assess_face
from faceapp.core.faces.selection import Face, FaceSelection, select_faces
from faceapp.core.models.loading import FaceModel
from faceapp.core.photo.reading import Photo, from_float, to_float
from faceapp.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from faceapp.core.repair import inpaint
from faceapp.core.repair.step import REPAIRS, inpainter_for, propose_mask
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
    face_colour_model: Path | None = None  # GPEN-Colorization (for faces whose colour is gpen)
    face_colour: str = "gpen"  # with face_colour_model: the colour of faces with no own choice
    face_complete_model: Path | None = None  # GPEN-Inpainting: complete faces under the repair
    per_face: PerFace = field(default_factory=dict)  # face index -> its own settings
    repair: str = "none"  # "none", "auto" (the proposed mask) or "mask" (repair_mask)
    repair_mask: np.ndarray | None = field(default=None, compare=False, repr=False)
    repair_model: Path | None = None  # a LaMa file; None: OpenCV's built-in inpainting
    colorize_model: Path | None = None  # a DDColor file; None: no colour
    color_strength: float = 1.0  # 0 = grey, 1 = the model's colour
    colorize_size: int = colorize.DEFAULT_SIZE

    def __post_init__(self) -> None:
        self._check_faces_and_background()
        if self.repair not in REPAIRS:
            raise ValueError("Repair must be 'none', 'auto' or a mask.")
        if self.repair == "mask" and self.repair_mask is None:
            raise ValueError("A damage mask is needed to repair with a mask.")
        if not 0.0 <= self.color_strength <= 1.0:
            raise ValueError("The colour strength goes from 0 to 1.")
        colorize.check_size(self.colorize_size)
        self._check_face_colours()

    def _check_face_colours(self) -> None:
        if self.face_colour not in COLOURS:
            raise ValueError("A face's colour is gpen, picture or grey.")
        wants_gpen = any(s.colour == "gpen" for s in self.per_face.values())
        if wants_gpen and self.face_colour_model is None:
            raise ValueError(
                "GPEN colour for a face needs the GPEN-Colorization model "
                "(gpen-colorization-1024): install it, or use --face-colorize-file."
            )

    def _check_faces_and_background(self) -> None:
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
        if self.face_complete_model is not None and self.repair == "none":
            raise ValueError(
                "Completing faces needs to know where the damage is: a damage mask "
                "(white = damaged) or the automatic repair."
            )

    def colour_for(self, index: int) -> str:
        """Face `index`'s colour: its own choice, else gpen for every face when a
        GPEN-Colorization model is given (face_colour), else the picture's."""
        own = self.per_face.get(index)
        if own is not None and own.colour is not None:
            return own.colour
        return self.face_colour if self.face_colour_model is not None else "picture"

    def settings_for(self, index: int) -> FaceSettings:
        """The model, strength and fidelity face `index` is restored with."""
        base = FaceSettings(self.face_model, self.strength, self.fidelity)
        return self.per_face.get(index, base).over(base)


@dataclass
class RestoredFace:
    face: Face
    patch: FacePatch  # network output in aligned space + the alignment
    crop: np.ndarray = field(repr=False)  # the aligned input, for before/after views
    strength: float | None = None  # its own strength; None: the photo's


@dataclass
class RestoreResult:
    photo: Photo
    faces: list[Face]  # every face found
    restored: list[RestoredFace]  # the ones restored
    background: np.ndarray | None = field(default=None, repr=False)  # cached for re-composing
    colour: ColourPrediction | None = field(default=None, repr=False)  # for re-colouring
    face_colours: list[FaceColour] = field(default_factory=list)  # laid over the colour


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
    coloured: list[Face] | None = None,
) -> RestoreResult:
    """The whole job on one photo. `faces` skips detection (the GUI passes the user's list);
    `coloured`: the faces whose own colour is applied (default: `faces`).

    keep_background=False pastes straight onto the upscaled background and does not keep it
    (result.background is None): one full-size float image less, for callers that will not
    re-compose (the CLI, the API)."""
    cancel = cancel or CancelToken()
    stages = _Stages(progress, _plan(options))
    prepare_old_photo_models(engine, photo, options, progress, cancel)
    image = to_float(photo.pixels)
    if faces is None:
        stages.report("detect", 0, "Finding faces")
        faces = engine.detector().detect(photo.pixels, cancel)
    if options.repair != "none":
        image, damage = repair_damage(engine, image, photo, options, faces, stages, cancel)
        if options.face_complete_model is not None:
            model = engine.face_model(options.face_complete_model, progress, cancel)
            complete_faces(engine, model, image, faces, damage, cancel=cancel)
    chosen = select_faces(faces, options.faces, photo.size, needs_restoring_in(image))
    report = _face_reporter(stages, len(chosen))
    restored = restore_chosen(engine, image, chosen, options, report, cancel, progress)
    cancel.raise_if_cancelled()
    stages.report("background", 0, "Upscaling the background")
    background = upscale_background(engine, image, options, stages, cancel, keep_background)
    del image
    cancel.raise_if_cancelled()
    stages.report("paste", 0, "Blending the faces in")
    out = compose(background, restored, options.strength, options.upscale, keep_background)
    colour = None
    if options.colorize_model is not None:
        stages.report("colour", 0, "Bringing back colour")
        colour = predict_colour(engine, out, options, progress, cancel)
        out = recolour(out, colour, options.color_strength, in_place=True)
        photo = replace(photo, grayscale=False)
    stages.report("paste", 0.5, "Colouring the faces")
    to_colour = scaled_faces(faces if coloured is None else coloured, options.upscale)
    own_colours = colour_each_face(engine, out, to_colour, options, cancel)
    apply_face_colours(
        out, own_colours, face_colour_strength(options.colorize_model, options.color_strength)
    )
    if any(c.colour is not None for c in own_colours):
        photo = replace(photo, grayscale=False)
    stages.report("paste", 1, "Done")
    kept = background if keep_background else None
    result = finish_photo(photo, out, options.upscale)
    return RestoreResult(result, faces, restored, kept, colour, own_colours)


def colour_each_face(
    engine: Engine,
    image: np.ndarray,
    faces: list[Face],
    options: RestoreOptions,
    cancel: CancelToken | None = None,
) -> list[FaceColour]:
    """The faces' own colours (options.colour_for), not yet applied. Without a picture
    colorizer the picture is grey: then, once some face is GPEN-coloured, "picture" faces are
    made grey too, so the tint a restoration model gives a grey face cannot show."""
    choices = [options.colour_for(f.index) for f in faces]
    if "gpen" in choices and options.colorize_model is None:
        choices = ["grey" if c == "picture" else c for c in choices]
    elif "gpen" not in choices and options.colorize_model is None:
        return []  # nothing coloured: the photo stays as grey as it was
    model = None
    if "gpen" in choices:
        model = engine.face_model(options.face_colour_model, cancel=cancel)
    return face_colours(engine, model, image, faces, choices, cancel)


def _plan(options: RestoreOptions) -> list[tuple[str, float]]:
    plan = [("detect", 1.0), ("restore", 6.0), ("background", 2.0), ("paste", 1.0)]
    if options.repair != "none":
        plan.insert(1, ("repair", 3.0))
    if options.colorize_model is not None:
        plan.append(("colour", 2.0))
    return plan


def repair_damage(
    engine: Engine,
    image: np.ndarray,
    photo: Photo,
    options: RestoreOptions,
    faces: list[Face],
    stages: _Stages,
    cancel: CancelToken,
) -> np.ndarray:
    """The image with its damage filled, and the damage mask: the given one, or the proposed
    one (faces left out)."""
    stages.report("repair", 0, "Finding scratches and dust")
    if options.repair == "auto":
        mask = propose_mask(photo.pixels, faces, cancel)
    else:
        mask = options.repair_mask
    inpainter = inpainter_for(engine, options.repair_model, image.shape, stages.progress, cancel)

    def on_cell(done: int, total: int) -> None:
        stages.report("repair", done / max(total, 1), f"Repairing damage ({done}/{total})")

    mask = inpaint.fit_mask(mask, image.shape[:2])
    return inpaint.repair(image, mask, inpainter, on_cell, cancel), mask


def prepare_old_photo_models(
    engine: Engine,
    photo: Photo,
    options: RestoreOptions,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> None:
    """Load (and on first use convert) LaMa and DDColor before the photo's float copies
    exist: a conversion needs about 3 GB for a moment, and on a 24-megapixel scan the two
    together would pass 5 GB."""
    if options.colorize_model is not None:
        engine.colorizer(options.colorize_model, options.colorize_size, progress, cancel)
    if options.repair != "none":
        inpainter_for(engine, options.repair_model, photo.pixels.shape, progress, cancel)


def predict_colour(
    engine: Engine,
    image: np.ndarray,
    options: RestoreOptions,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ColourPrediction:
    """Run the colorizer once on the finished (float RGB) picture."""
    model = engine.colorizer(options.colorize_model, options.colorize_size, progress, cancel)
    return colorize.predict(model, image, options.colorize_size, rgb=True)


def recolour(
    image: np.ndarray, colour: ColourPrediction, strength: float, in_place: bool = False
) -> np.ndarray:
    """The picture's own lightness with the predicted colour at `strength`. No network."""
    out = image if in_place else None
    return np.clip(colorize.apply(colour, image, strength, rgb=True, out=out), 0.0, 1.0, out=out)


def lay_colours(image: np.ndarray, result: RestoreResult, strength: float) -> np.ndarray:
    """A re-composed picture (float RGB, in place) in the result's colours: the picture's at
    `strength`, then each face's own. No network."""
    if result.colour is not None:
        image = recolour(image, result.colour, strength, in_place=True)
    apply_face_colours(image, result.face_colours, face_colour_strength(result.colour, strength))
    return image


def scaled_faces(faces: list[Face], scale: int) -> list[Face]:
    """The faces' positions in the photo enlarged `scale` times (pixel centres kept)."""
    if scale == 1:
        return faces
    shift = (scale - 1) / 2
    return [replace(f, landmarks=np.asarray(f.landmarks) * scale + shift) for f in faces]


def needs_restoring_in(image: np.ndarray):
    """The predicate `--faces auto` selects with: the face's quality estimate."""
    return lambda face: assess_face(image, face).needs_restoring


def _face_reporter(stages: _Stages, count: int):
    def report(done: int) -> None:
        stages.report("restore", done / count, f"Restoring face {min(done + 1, count)} of {count}")

    return report


def restore_chosen(
    engine: Engine,
    image: np.ndarray,
    faces: list[Face],
    options: RestoreOptions,
    on_face=None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback = no_progress,  # a model's first-use conversion reports here
) -> list[RestoredFace]:
    """Each face with its own settings (RestoreOptions.settings_for), one model at a time so
    that each is loaded once; the results keep the faces' order. Faces without a model (no
    global model and none of their own) are left as they are."""
    groups: dict[tuple[Path, float], list[int]] = {}
    for position, face in enumerate(faces):
        own = options.settings_for(face.index)
        if own.model is not None:
            groups.setdefault((own.model, own.fidelity), []).append(position)
    done: dict[int, RestoredFace] = {}
    for (path, fidelity), positions in groups.items():
        model = engine.face_model(path, progress, cancel)
        start = len(done)
        report = (lambda i, start=start: on_face(start + i)) if on_face else None
        group = [faces[p] for p in positions]
        results = restore_faces(engine, model, image, group, fidelity, report, cancel, options.mask)
        for position, result in zip(positions, results, strict=True):
            own = options.per_face.get(faces[position].index)
            done[position] = replace(result, strength=own.strength if own else None)
    return [done[p] for p in sorted(done)]


def restore_note(options: RestoreOptions, restored: list[RestoredFace]) -> str:
    """What the "already restored" marker says: the models used (see photo.provenance)."""
    models = {options.settings_for(r.face.index).model for r in restored}
    names = sorted(model_name(m) for m in models)
    return f"restored: {', '.join(names)}" if names else "no face restored"


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
    itself with copy=False), each at its own strength when it has one. Cheap: no network."""
    canvas = background.copy() if copy else background
    for r in restored:
        paste_faces(canvas, [r.patch], strength if r.strength is None else r.strength, scale)
    return canvas


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
    engine: Engine,
    photo: Photo,
    model_path: Path | None,
    strength: float,
    fidelity: float,
    options: RestoreOptions | None = None,
) -> Photo:
    """An already aligned face crop: no detection, no paste-back; the output is the restored
    crop at the model's size (or the crop's own size for size-agnostic models). `options`
    adds GPEN's completion (where `repair_mask`, in the crop's pixels, says) and colouring;
    with no restoration model (or faces "none") only those run, at the crop's size."""
    options = options or RestoreOptions()
    image = to_float(photo.pixels)
    h, w = image.shape[:2]
    if h != w:
        raise FaceappError(f"An aligned face must be square; this image is {w} × {h}.")
    if options.face_complete_model is not None:
        if options.repair != "mask":
            raise FaceappError("An aligned face is completed where a damage mask says.")
        damage = inpaint.fit_mask(options.repair_mask, (h, w))
        image = _complete_aligned(engine, options.face_complete_model, image, damage)
    if model_path is not None and options.faces != "none":
        image = _restore_aligned(engine, model_path, image, strength, fidelity)
    if options.face_colour_model is not None:
        image = _colour_aligned(engine, options.face_colour_model, image)
        photo = replace(photo, grayscale=False)
    return finish_photo(replace(photo, alpha=None), image, 1)


def _restore_aligned(engine, model_path, image, strength: float, fidelity: float):
    model = engine.face_model(model_path)
    size = _model_size(model, image.shape[0])
    image = _resized(image, size)
    output = run_face_model(engine, model, image, fidelity)
    return strength * output + (1 - strength) * image


def _complete_aligned(engine, model_path, image, damage):
    model = engine.face_model(model_path)
    size, original = _model_size(model, image.shape[0]), image.shape[0]
    crop = _resized(image, size)
    damaged = cv2.resize((damage > 0).astype(np.uint8), (size, size)) > 0
    completed = complete_aligned_face(engine, model, crop, damaged)
    completed = _resized(completed, original)
    hole = cv2.resize(damaged.astype(np.uint8), (original, original)) > 0
    out = image.copy()
    out[hole] = completed[hole]
    return out


def _colour_aligned(engine, model_path, image):
    model = engine.face_model(model_path)
    size, original = _model_size(model, image.shape[0]), image.shape[0]
    colour = colour_aligned_face(engine, model, _resized(image, size))
    return keep_luminance(_resized(colour, original), luma(image))


def _model_size(model: FaceModel, size: int) -> int:
    return size if model.accepts(size) else model.input_size


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size:
        return image
    grow = size > image.shape[0]
    interpolation = cv2.INTER_CUBIC if grow else cv2.INTER_AREA
    return cv2.resize(image, (size, size), interpolation=interpolation)
