"""The one thread that owns the device: every job touching torch runs here, in order.

Jobs are plain functions `fn(engine, progress, cancel) -> result`, usually thin wrappers over
core functions. Each submitted job is a `Job` object living in the GUI thread; the worker emits
its signals, so Qt delivers them to GUI slots through the event loop.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from faceapp.core.errors import Cancelled, FaceappError
from faceapp.core.progress import CancelToken, ProgressCallback

log = logging.getLogger("faceapp.gui.inference")

JobFunction = Callable[[Any, ProgressCallback, CancelToken], Any]


class Job(QObject):
    progress = Signal(object)  # core.progress.Progress
    finished = Signal(object)  # the function's result
    failed = Signal(object)  # the exception
    cancelled = Signal()
    ended = Signal()  # after any of the three above

    def __init__(self, kind: str, fn: JobFunction) -> None:
        super().__init__()
        self.kind = kind
        self.fn = fn
        self.token = CancelToken()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self.token.cancelled


class InferenceThread(QThread):
    """Runs jobs one at a time on a single engine, created lazily (torch loads here, not in the
    GUI thread, so the window shows before torch is imported)."""

    deviceReady = Signal(str)  # e.g. "NVIDIA GeForce RTX 3060" or "CPU — slower"

    def __init__(self, device: str = "auto", runtime: str = "auto", precision: str = "exact"):
        super().__init__()
        self.setObjectName("faceapp-inference")
        self._device, self._runtime, self._precision = device, runtime, precision
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._pending: list[Job] = []  # keeps Job objects alive until they end

    def submit(self, kind: str, fn: JobFunction) -> Job:
        job = Job(kind, fn)
        self._pending.append(job)
        job.ended.connect(lambda: self._forget(job))
        self._queue.put(job)
        if not self.isRunning():
            self.start()
        return job

    def _forget(self, job: Job) -> None:
        if job in self._pending:
            self._pending.remove(job)

    def jobs(self) -> list[Job]:
        return list(self._pending)

    def cancel_all(self, kind: str | None = None) -> None:
        for job in list(self._pending):
            if kind is None or job.kind == kind:
                job.cancel()

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and end the thread; True when it ended in time."""
        self.cancel_all()
        self._queue.put(None)
        return self.wait(timeout_ms) if self.isRunning() else True

    def run(self) -> None:
        engine, shown = None, None
        while (job := self._queue.get()) is not None:
            if job.is_cancelled:
                self._end(job, job.cancelled.emit)
                continue
            try:
                engine = engine or self._make_engine()
                result = job.fn(engine, job.progress.emit, job.token)
            except Cancelled:
                self._end(job, job.cancelled.emit)
            except FaceappError as exc:  # written for users: no traceback needed in the log
                log.warning("%s job: %s", job.kind, exc)
                self._end(job, lambda exc=exc: job.failed.emit(exc))
            except Exception as exc:  # every failure is reported, none ends the thread
                log.exception("%s job failed", job.kind)
                self._end(job, lambda exc=exc: job.failed.emit(exc))
            else:
                self._end(job, lambda result=result: job.finished.emit(result))
            if engine is not None and engine.device_name != shown:  # e.g. PyTorch after all
                shown = engine.device_name
                self.deviceReady.emit(shown)

    def _end(self, job: Job, emit: Callable[[], None]) -> None:
        emit()
        job.ended.emit()

    def _make_engine(self):
        from faceapp.core.runtime.engine import Engine  # imports torch: only ever on this thread

        engine = Engine(self._device, self._runtime, self._precision)
        self.deviceReady.emit(engine.device_name)
        return engine
