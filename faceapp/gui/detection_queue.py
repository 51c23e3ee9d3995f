"""In which order opened photos are read and searched for faces: the one on screen first,
then those visible in the list, then the rest. A photo the user clicks jumps the queue."""

from __future__ import annotations

from PySide6.QtCore import QObject

from faceapp.core.progress import Progress
from faceapp.gui.inference import InferenceThread
from faceapp.gui.job_queue import Priority
from faceapp.gui.state import PhotoDoc, Status

PHOTO_KINDS = ("open", "detect")  # reading and finding faces: ordered here


class DetectionOrder(QObject):
    def __init__(self, inference: InferenceThread) -> None:
        super().__init__()
        self.inference = inference
        self.current: PhotoDoc | None = None
        self.visible: set[int] = set()  # id() of the docs visible in the list

    def priority(self, doc: PhotoDoc, kind: str) -> int:
        """Where a job for `doc` goes in the queue."""
        if kind not in PHOTO_KINDS:
            return Priority.NOW
        if doc is self.current:
            return Priority.SELECTED
        return Priority.VISIBLE if id(doc) in self.visible else Priority.BACKGROUND

    def set_current(self, doc: PhotoDoc | None) -> None:
        self.current = doc
        self._reorder()

    def set_visible(self, docs: list[PhotoDoc]) -> None:
        self.visible = {id(doc) for doc in docs}
        self._reorder()

    def _reorder(self) -> None:
        for job in self.inference.jobs():
            doc = job.property("doc")
            if doc is not None and job.kind in PHOTO_KINDS:
                priority = self.priority(doc, job.kind)
                if priority != job.priority:
                    self.inference.set_priority(job, priority)


def show_detection_progress(doc: PhotoDoc, progress: Progress) -> None:
    """ "Finding faces… 40 %" on the photo, while its faces are looked for."""
    if doc.status is Status.DETECTING and progress.fraction > 0:
        percent = round(progress.fraction * 100)
        doc.set_status(Status.DETECTING, f"{Status.DETECTING.value} {percent} %")
