"""The damage masks of the opened photos, and "Find scratches and dust" on the inference thread.

Editing a mask runs nothing: the restored result only goes stale (its recipe names the mask's
version) until the user presses Restore, like any other setting.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from faceapp.core.faces.selection import Face
from faceapp.core.photo.reading import Photo
from faceapp.gui.damage_mask import DamageMask
from faceapp.gui.documents import Documents
from faceapp.gui.error_panel import report_from_exception
from faceapp.gui.inference import Job, JobFunction
from faceapp.gui.state import PhotoDoc


def scratches_job(photo: Photo, faces: list[Face]) -> JobFunction:
    """The proposed mask (255 = damage). Faces are left out (core repair.step.propose_mask):
    on the old photos the few false marks fall on eyes, lips and spectacles, while the face
    model repairs what lies on a face anyway; the brush can still mark a face by hand."""

    def run(engine, progress, cancel):
        from faceapp.core.progress import Progress
        from faceapp.core.repair.step import propose_mask

        progress(Progress("scratches", 0.0, "Finding scratches and dust…"))
        return propose_mask(photo.pixels, faces, cancel)

    return run


class RepairTools(QObject):
    currentMask = Signal(object)  # the DamageMask of the photo on screen, or None
    maskChanged = Signal(object)  # PhotoDoc whose mask changed: a stroke, a proposal, an undo
    finding = Signal(object)  # the running "Find scratches and dust" Job, None when it ended
    found = Signal(object)  # PhotoDoc whose proposal was added to its mask

    def __init__(self, documents: Documents) -> None:
        super().__init__()
        self.documents = documents
        self._masks: dict[PhotoDoc, DamageMask] = {}
        self.job: Job | None = None
        documents.currentChanged.connect(lambda doc: self.currentMask.emit(self.mask_for(doc)))

    def mask_for(self, doc: PhotoDoc | None) -> DamageMask | None:
        """The photo's editable mask; None until its pixels are read (its size is unknown)."""
        if doc is None:
            return None
        mask = self._masks.get(doc)
        if mask is None and doc.photo is not None:
            mask = DamageMask(doc, doc.photo.size)
            mask.edited.connect(lambda doc=doc: self._on_edited(doc))
            self._masks[doc] = mask
        self._masks = {d: m for d, m in self._masks.items() if d in self.documents.docs}
        return mask

    def _on_edited(self, doc: PhotoDoc) -> None:
        self.maskChanged.emit(doc)
        doc.changed.emit()  # the result may be stale now: the Restore button says so

    def find_scratches(self, doc: PhotoDoc) -> Job | None:
        """Propose a mask from the photo itself and add it to the photo's mask (one undo
        step). One search at a time."""
        if doc.photo is None or self.job is not None:
            return None
        job = self.documents.inference.submit("scratches", scratches_job(doc.photo, doc.faces))
        job.setProperty("doc", doc)
        job.finished.connect(lambda proposal: self._on_found(doc, proposal))
        job.failed.connect(
            lambda exc: self.documents.error.emit(report_from_exception(exc, doc.name))
        )
        job.ended.connect(self._on_ended)
        self.job = job
        self.finding.emit(job)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_found(self, doc: PhotoDoc, proposal) -> None:
        self.job = None  # done: another search may start (its `ended` comes after this)
        mask = self.mask_for(doc)
        if mask is not None:
            mask.add(proposal)
            self.found.emit(doc)

    def _on_ended(self) -> None:
        self.job = None
        self.finding.emit(None)
