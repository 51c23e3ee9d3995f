"""Per-face tools: compare models on one face, use a candidate, give a face its own strength.

The comparison runs on the one inference thread (a job like any other) and its results are
cached per face, model and fidelity in the PhotoDoc; using a candidate, or moving one face's
strength, never runs the network: only that face is blended again.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from faceapp.core.face_preview import FacePreview
from faceapp.core.models import store as model_store
from faceapp.core.progress import Progress
from faceapp.gui import photo_jobs
from faceapp.gui.documents import Documents
from faceapp.gui.error_panel import report_from_exception
from faceapp.gui.face_choices import FaceChoice
from faceapp.gui.inference import Job
from faceapp.gui.state import PhotoDoc


def compare_job(
    doc: PhotoDoc, index: int, models: list | None, repair: tuple[Path | None] | None = None
):
    """Runs on the inference thread; fills the face's compare cache (only this job touches
    it while it runs) so that a cancelled comparison keeps what it finished. `repair`: (LaMa
    file or None for the built-in method) when the marked damage is repaired on Restore; the
    face is then tried on the repaired pixels, as the restoration would see it."""
    photo = doc.photo
    face = next(f for f in doc.faces if f.index == index)
    damage = doc.damage_mask.copy() if repair is not None else None
    key = index if repair is None else (index, doc.damage_version, repair)
    cache = doc.candidates.setdefault(key, {})

    def run(engine, progress, cancel):
        from faceapp.core.compare import compare_face, installed_face_models
        from faceapp.core.photo.reading import to_float
        from faceapp.core.repair.step import repair_around

        chosen = models if models is not None else installed_face_models()
        image = to_float(photo.pixels)
        if damage is not None:
            progress(Progress("compare", 0.0, "Repairing the damage around the face"))
            image = repair_around(engine, image, damage, face, repair[0], cancel)
        return compare_face(
            engine, image, face, chosen, progress=progress, cancel=cancel, cache=cache
        )

    return run


class FaceTools(QObject):
    compared = Signal(object, int, object)  # PhotoDoc, face index, [CandidateResult]

    def __init__(self, documents: Documents) -> None:
        super().__init__()
        self.documents = documents

    def compare(self, doc: PhotoDoc, index: int, models: list | None = None) -> Job:
        repair = self._repair_for(doc)
        job = self.documents.inference.submit("compare", compare_job(doc, index, models, repair))
        job.setProperty("doc", doc)
        job.finished.connect(lambda results: self.compared.emit(doc, index, results))
        job.failed.connect(
            lambda exc: self.documents.error.emit(report_from_exception(exc, doc.name))
        )
        return job

    def _repair_for(self, doc: PhotoDoc) -> tuple[Path | None] | None:
        """What Restore would repair the marked damage with, as compare_job takes it."""
        recipe = self.documents.recipe_for(doc)
        if recipe.repair is None:
            return None
        # the repair panel falls back to the built-in method when a LaMa model is removed
        method = recipe.repair[0]
        return (None if method == "opencv" else model_store.installed_path(method),)

    def use_candidate(self, doc: PhotoDoc, index: int, result) -> None:
        """This face uses `result` (a CandidateResult) from now on: no inference."""
        old = doc.choices.get(index, FaceChoice())
        candidate = result.candidate
        doc.choices[index] = replace(old, model_id=candidate.name, fidelity=candidate.fidelity)
        doc.chosen[index] = result.restored
        doc.excluded.discard(index)
        if doc.result is not None:
            restored = replace(result.restored, strength=old.strength)
            kept = [r for r in doc.result.restored if r.face.index != index]
            order = {f.index: n for n, f in enumerate(doc.faces)}
            kept = sorted([*kept, restored], key=lambda r: order.get(r.face.index, 0))
            doc.result = replace(doc.result, restored=kept)
            self._rebuild_preview(doc)
        doc.changed.emit()

    def set_face_model(self, doc: PhotoDoc, index: int, model_id: str | None) -> None:
        """This face's own model (None: the global one); it takes effect on Restore."""
        old = doc.choices.get(index, FaceChoice())
        if old.model_id == model_id:
            return
        doc.choices[index] = replace(old, model_id=model_id, fidelity=None)
        doc.chosen.pop(index, None)  # a result picked in Compare was for another model
        doc.changed.emit()

    def set_face_colour(self, doc: PhotoDoc, index: int, colour: str | None) -> None:
        """This face's colour ("gpen", "picture", "grey"; None: the picture's); it takes
        effect on Restore (GPEN colours the face with the network)."""
        old = doc.choices.get(index, FaceChoice())
        if old.colour == colour:
            return
        doc.choices[index] = replace(old, colour=colour)
        doc.changed.emit()

    def set_face_strength(self, doc: PhotoDoc, index: int, strength: float | None) -> None:
        """This face's own strength (None: the global one); re-blends only this face."""
        old = doc.choices.get(index, FaceChoice())
        doc.choices[index] = replace(old, strength=strength)
        if doc.result is None:
            doc.changed.emit()
            return
        position = next(
            (n for n, r in enumerate(doc.result.restored) if r.face.index == index), None
        )
        if position is not None:
            restored = list(doc.result.restored)
            restored[position] = replace(restored[position], strength=strength)
            doc.result = replace(doc.result, restored=restored)
            if isinstance(doc.compositor, FacePreview):
                doc.compositor.set_face_strength(position, strength)
            else:
                self._rebuild_preview(doc, keep_recipe=True)
            self.documents.previewChanged.emit(doc)
        doc.changed.emit()

    def _rebuild_preview(self, doc: PhotoDoc, keep_recipe: bool = False) -> None:
        """A preview with per-face strengths (copies the background once, no network)."""
        upscale = doc.recipe.upscale if doc.recipe else 1
        controls = self.documents.controls
        doc.compositor = photo_jobs.make_preview(
            doc.result, upscale, controls.strength, controls.colour_strength
        )
        if not keep_recipe and doc.recipe is not None:
            doc.recipe = self.documents.recipe_for(doc)
        self.documents.previewChanged.emit(doc)
