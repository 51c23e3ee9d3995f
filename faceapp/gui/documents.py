"""The opened photos and everything done to them: open, detect, restore, export.

Every job goes to the one inference thread; a photo that fails is marked and reported, and the
others go on.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from faceapp.core.colour.detect import is_black_and_white
from faceapp.core.faces.selection import Face
from faceapp.core.photo.provenance import marker
from faceapp.core.photo.reading import Photo, photo_from_array, photos_in
from faceapp.core.photo.writing import SaveOptions
from faceapp.core.preview import PreviewCompositor
from faceapp.gui import photo_jobs
from faceapp.gui.detection_queue import DetectionOrder, show_detection_progress
from faceapp.gui.error_panel import ErrorReport, report_from_exception
from faceapp.gui.face_choices import core_settings, recipe_part, restore_note
from faceapp.gui.inference import InferenceThread, Job
from faceapp.gui.photo_memory import PhotoMemory
from faceapp.gui.state import Controls, PhotoDoc, Status

if TYPE_CHECKING:  # the pipeline imports torch: only the inference thread loads it
    from faceapp.core.pipeline import RestoreResult


class Documents(QObject):
    docAdded = Signal(object)  # PhotoDoc
    currentChanged = Signal(object)  # PhotoDoc | None
    previewChanged = Signal(object)  # PhotoDoc whose preview (after image) changed
    progress = Signal(object)  # Progress of the running restore
    restoringChanged = Signal(bool)
    error = Signal(object)  # ErrorReport
    saved = Signal(object, object)  # PhotoDoc, Path
    faceAdded = Signal(object, object)  # PhotoDoc, Face | None (None: none found in the box)
    _photoRead = Signal(object, object)  # PhotoDoc, Photo: decoded, its faces not found yet

    def __init__(self, inference: InferenceThread, controls: Controls) -> None:
        super().__init__()
        self.inference = inference
        self.controls = controls
        self.order = DetectionOrder(inference)  # which photo's faces are looked for first
        self.memory = PhotoMemory()  # which photos stay decoded
        self.docs: list[PhotoDoc] = []
        self.current: PhotoDoc | None = None
        self._restores: list[Job] = []
        self._pasted = 0
        self._photoRead.connect(self._on_read)

    # --- opening ---------------------------------------------------------------------------

    def open_paths(self, paths: list[Path]) -> list[PhotoDoc]:
        """Open files, and the photos directly inside folders; already open files are skipped."""
        opened = []
        for path in _expand(paths, self.error.emit):
            if any(d.path == path for d in self.docs):
                continue
            doc = self._add(PhotoDoc(path, path.name))
            read = partial(self._photoRead.emit, doc)  # from the inference thread: queued
            job = self._submit(doc, "open", photo_jobs.open_job(path, read), self._on_detected)
            job.progress.connect(partial(show_detection_progress, doc))
            opened.append(doc)
        return opened

    def open_array(self, pixels: np.ndarray, name: str | None = None) -> PhotoDoc:
        """A pasted image: no file behind it, exported into the destination folder."""
        self._pasted += 1
        doc = self._add(PhotoDoc(None, name or f"Pasted image {self._pasted}"))
        photo = photo_from_array(pixels)
        self._on_read(doc, photo)
        job = self._submit(doc, "detect", photo_jobs.detect_job(photo), self._on_detected)
        job.progress.connect(partial(show_detection_progress, doc))
        return doc

    def _add(self, doc: PhotoDoc) -> PhotoDoc:
        self.docs.append(doc)
        self.docAdded.emit(doc)
        if self.current is None:
            self.set_current(doc)
        return doc

    def _on_read(self, doc: PhotoDoc, photo: Photo) -> None:
        doc.photo = photo
        doc.black_and_white = is_black_and_white(photo.pixels)  # cheap: a 256 px sample
        doc.set_status(Status.DETECTING)
        if doc is self.current:
            self.currentChanged.emit(doc)

    def _on_detected(self, doc: PhotoDoc, found: tuple[list[Face], list]) -> None:
        faces, qualities = found
        doc.set_faces(faces, qualities)
        doc.set_status(Status.READY)
        self.memory.used(doc, keep=self.current, hold=False)  # its faces are all it needed

    def set_current(self, doc: PhotoDoc | None) -> None:
        if doc is not self.current:
            self.current = doc
            self.order.set_current(doc)
            if doc is not None and self.memory.released(doc):
                self._reload(doc)
            self.currentChanged.emit(doc)

    def _reload(self, doc: PhotoDoc, then=None) -> None:
        """Decode a photo whose pixels were let go again; `then(doc)` once it is back."""

        def done(doc: PhotoDoc, photo: Photo) -> None:
            doc.photo = photo
            self.memory.forget(doc)
            self.memory.used(doc, keep=self.current)
            if doc is self.current:
                self.currentChanged.emit(doc)
            if then is not None:
                then(doc)

        self._submit(doc, "read", photo_jobs.read_job(doc.path), done, keep_status=True)

    def close(self, doc: PhotoDoc) -> None:
        for job in self.inference.jobs():
            if job.property("doc") is doc:
                job.cancel()
        self.docs.remove(doc)
        self.memory.forget(doc)
        if self.current is doc:
            self.set_current(self.docs[0] if self.docs else None)

    # --- faces -----------------------------------------------------------------------------

    def add_face_in_box(self, doc: PhotoDoc, box: tuple[float, float, float, float]) -> None:
        if doc.photo is None:
            return

        def found(doc: PhotoDoc, face: Face | None) -> None:
            self.faceAdded.emit(doc, doc.add_face(face) if face is not None else None)

        self._submit(doc, "face", photo_jobs.face_in_box_job(doc.photo, box), found, quiet=True)

    # --- restoring -------------------------------------------------------------------------

    def restore(self, docs: list[PhotoDoc]) -> None:
        for doc in docs:
            if self.memory.released(doc):
                self._reload(doc, then=lambda doc: self.restore([doc]))
                continue
            if doc.photo is None or doc.status in (Status.RESTORING, Status.FAILED):
                continue
            self._restore_one(doc)

    def _restore_one(self, doc: PhotoDoc) -> None:
        recipe = self.recipe_for(doc)
        try:
            per_face = core_settings(doc.choices)
            options = photo_jobs.options_for(
                recipe,
                self.controls.strength,
                per_face,
                self.controls.colour_strength,
                doc.damage_mask,
            )
        except Exception as exc:
            self.error.emit(report_from_exception(exc, doc.name))
            return
        previous = doc.result
        reuse = previous is not None and doc.recipe is not None and _only_fidelity(doc, recipe)
        if reuse:
            fn = photo_jobs.refine_job(doc.photo, previous, options)
        else:
            included = {f.index for f in doc.included_faces()}
            chosen = {i: r for i, r in doc.chosen.items() if i in included}
            fn = photo_jobs.restore_job(doc.photo, doc.included_faces(), options, chosen)
        doc.set_status(Status.RESTORING, "Restoring…")

        def done(doc: PhotoDoc, value: tuple[RestoreResult, PreviewCompositor]) -> None:
            doc.result, doc.compositor = value
            doc.recipe = recipe
            doc.set_status(Status.RESTORED)
            self.previewChanged.emit(doc)

        job = self._submit(doc, "restore", fn, done)
        job.progress.connect(self.progress.emit)
        self._restores.append(job)
        job.ended.connect(lambda: self._restore_ended(job))
        self.restoringChanged.emit(True)

    def _restore_ended(self, job: Job) -> None:
        self._restores.remove(job)
        if not self._restores:
            self.restoringChanged.emit(False)

    def restoring(self) -> bool:
        return bool(self._restores)

    def cancel(self) -> None:
        for job in list(self._restores):
            job.cancel()

    def stale(self, doc: PhotoDoc) -> bool:
        """The shown result was made with other faces or settings than the current ones."""
        if doc.recipe is None:
            return True
        return doc.recipe != self.recipe_for(doc)

    def recipe_for(self, doc: PhotoDoc):
        faces, parts = doc.included_faces(), recipe_part(doc.choices)
        damaged = doc.damage_mask is not None and bool(doc.damage_mask.any())
        version = doc.damage_version if damaged else None
        return self.controls.recipe(faces, parts, doc.black_and_white, version)

    def render_preview(self, doc: PhotoDoc) -> np.ndarray | None:
        """The after image at the current strength (cheap: no network)."""
        if doc.compositor is None:
            return None
        if hasattr(doc.compositor, "colour_strength"):  # cached per (strength, colour)
            doc.compositor.colour_strength = self.controls.colour_strength
            return doc.compositor.render(self.controls.strength)
        if doc.compositor.strength != self.controls.strength:
            doc.compositor.render(self.controls.strength)
        return doc.compositor.display

    # --- exporting -------------------------------------------------------------------------

    def export(self, doc: PhotoDoc, target: Path, save: SaveOptions) -> Job | None:
        if doc.result is None or doc.photo is None:
            return None
        upscale = doc.recipe.upscale if doc.recipe else 1
        note = restore_note(doc.recipe.model_id if doc.recipe else None, doc.choices)
        save = replace(save, software=marker(note))
        fn = photo_jobs.export_job(
            doc.photo,
            doc.result,
            self.controls.strength,
            upscale,
            target,
            save,
            self.controls.colour_strength,
        )

        def done(doc: PhotoDoc, written: Path) -> None:
            doc.saved_to = written
            doc.set_status(Status.SAVED)
            self.saved.emit(doc, written)

        return self._submit(doc, "export", fn, done, keep_status=True)

    # --- plumbing --------------------------------------------------------------------------

    def _submit(self, doc, kind, fn, on_done, quiet: bool = False, keep_status: bool = False):
        job = self.inference.submit(kind, fn, self.order.priority(doc, kind))
        job.setProperty("doc", doc)
        job.finished.connect(lambda value: on_done(doc, value))
        job.failed.connect(lambda exc: self._failed(doc, exc, quiet or keep_status))
        job.cancelled.connect(lambda: self._cancelled(doc, kind))
        return job

    def _failed(self, doc: PhotoDoc, exc: BaseException, keep_status: bool) -> None:
        report = report_from_exception(exc, doc.name)
        if not keep_status:
            restorable = doc.photo is not None and doc.status is Status.RESTORING
            doc.set_status(Status.READY if restorable else Status.FAILED, _short(report))
        self.error.emit(report)

    def _cancelled(self, doc: PhotoDoc, kind: str) -> None:
        if kind == "restore":
            doc.set_status(Status.RESTORED if doc.result is not None else Status.READY)
        elif kind in ("open", "detect") and doc in self.docs:
            doc.set_status(Status.FAILED, "Cancelled")


def _only_fidelity(doc: PhotoDoc, recipe) -> bool:
    old = doc.recipe
    return (  # a repaired photo's faces come from the repaired pixels: the whole job runs
        old is not None
        and old.repair is None
        and recipe.repair is None
        and recipe.complete is None  # completed faces, too, come from the repaired pixels
        and not old.per_face
        and not recipe.per_face
        and old.fidelity != recipe.fidelity
        and (
            (old.model_id, old.upscale, old.background, old.faces, old.colour_model, old.complete)
            == (
                recipe.model_id,
                recipe.upscale,
                recipe.background,
                recipe.faces,
                recipe.colour_model,
                recipe.complete,
            )
        )
    )


def _expand(paths: list[Path], on_error) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path).resolve()
        if path.is_dir():
            try:
                files.extend(photos_in(path))
            except OSError as exc:
                on_error(ErrorReport(f"Cannot read the folder '{path.name}'.", str(exc)))
        else:
            files.append(path)
    return files


def _short(report: ErrorReport) -> str:
    first = report.message.split(". ")[0].rstrip(".")
    return first if len(first) < 80 else first[:77] + "…"
