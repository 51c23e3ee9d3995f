"""The one thread that owns the device: every job touching torch runs here, one at a time,
the most urgent first (job_queue.Priority: what the user asked for, then the photo on screen,
the photos visible in the list, the rest). A job that can pause between steps (a detection)
pauses for a more urgent job, and after SLICE_S seconds for the others of its priority, then
goes on where it was: a crowd photo does not hold back the portraits queued after it.

Jobs are plain functions `fn(engine, progress, cancel) -> result`, usually thin wrappers over
core functions. Each submitted job is a `Job` object living in the GUI thread; the worker posts
its signals to the GUI thread's event loop, which emits them there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal

from faceapp.core.errors import Cancelled, FaceappError
from faceapp.core.progress import CancelToken, ProgressCallback
from faceapp.gui.job_queue import JobQueue, Priority

log = logging.getLogger("faceapp.gui.inference")

JobFunction = Callable[[Any, ProgressCallback, CancelToken], Any]


SLICE_S = 10.0  # a pausable job that ran this long lets the others of its priority go first


class Paused(Exception):
    """A job stopped between two steps: it is queued again and goes on from where it stopped
    (see photo_jobs.detect_job)."""


class JobToken(CancelToken):
    """A job's cancel token, which also carries the thread's wish that it pause: at once for a
    more urgent job, or after its time slice when others of its priority wait."""

    def __init__(self) -> None:
        super().__init__()
        self._pause = threading.Event()
        self.slice_over: Callable[[], bool] = lambda: False  # set by the thread
        self.sliced = False  # it paused because its slice was over

    def request_pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()
        self.sliced = False

    def raise_if_paused(self) -> None:
        if self._pause.is_set():
            raise Paused()
        if self.slice_over():
            self.sliced = True
            raise Paused()


class Job(QObject):
    progress = Signal(object)  # core.progress.Progress
    finished = Signal(object)  # the function's result
    failed = Signal(object)  # the exception
    cancelled = Signal()
    ended = Signal()  # after any of the three above

    def __init__(self, kind: str, fn: JobFunction, priority: int = Priority.NOW) -> None:
        super().__init__()
        self.kind = kind
        self.fn = fn
        self.priority = priority
        self.token = JobToken()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self.token.cancelled


class _Stop:
    """Queued by stop(): the thread ends when it gets there."""


class InferenceThread(QThread):
    """Runs jobs one at a time on a single engine, created lazily (torch loads here, not in the
    GUI thread, so the window shows before torch is imported)."""

    deviceReady = Signal(str)  # e.g. "NVIDIA GeForce RTX 3060" or "CPU — slower"
    _post = Signal(object)  # a call the GUI thread makes: a job's signal with its value

    def __init__(self, device: str = "auto", runtime: str = "auto", precision: str = "exact"):
        super().__init__()
        # A job's signals are emitted from the GUI thread, after the code that submitted it
        # has connected them: an urgent job may run at once, before its submitter returns.
        self._post.connect(lambda call: call(), Qt.ConnectionType.QueuedConnection)
        self.setObjectName("faceapp-inference")
        self._device, self._runtime, self._precision = device, runtime, precision
        self._queue: JobQueue[Job | _Stop] = JobQueue()
        self._pending: list[Job] = []  # keeps Job objects alive until they end
        self._running: Job | None = None
        self._sliced: Job | None = None  # at most one job waits after its slice: bounded memory

    def submit(self, kind: str, fn: JobFunction, priority: int = Priority.NOW) -> Job:
        job = Job(kind, fn, priority)
        self._pending.append(job)
        job.ended.connect(lambda: self._forget(job))
        self._queue.put(job, priority)
        self._pause_for_urgent()
        if not self.isRunning():
            self.start()
        return job

    def set_priority(self, job: Job, priority: int) -> None:
        """Move a waiting job up or down the queue; a running job that can pause does so
        when a more urgent one waits."""
        job.priority = priority
        self._queue.move(job, priority)
        self._pause_for_urgent()

    def _pause_for_urgent(self) -> None:
        running = self._running
        urgent = self._queue.most_urgent()
        if running is not None and urgent is not None and urgent < running.priority:
            running.token.request_pause()

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
        self._queue.put(_Stop(), Priority.LAST)
        return self.wait(timeout_ms) if self.isRunning() else True

    def run(self) -> None:
        engine, shown = None, None
        while isinstance(job := self._queue.get(), Job):
            if self._sliced is job:
                self._sliced = None
            if job.is_cancelled:
                self._end(job, job.cancelled)
                continue
            self._running = job
            self._start_slice(job)
            try:
                engine = engine or self._make_engine()
                result = job.fn(engine, lambda p, job=job: self._emit(job.progress, p), job.token)
            except Paused:
                self._park(job)
            except Cancelled:
                self._end(job, job.cancelled)
            except FaceappError as exc:  # written for users: no traceback needed in the log
                log.warning("%s job: %s", job.kind, exc)
                self._end(job, job.failed, exc)
            except Exception as exc:  # every failure is reported, none ends the thread
                log.exception("%s job failed", job.kind)
                self._end(job, job.failed, exc)
            else:
                self._end(job, job.finished, result)
            finally:
                self._running = None
            if engine is not None and engine.device_name != shown:  # e.g. PyTorch after all
                shown = engine.device_name
                self.deviceReady.emit(shown)

    def _start_slice(self, job: Job) -> None:
        job.token.resume()
        end = time.monotonic() + SLICE_S

        def slice_over() -> bool:
            if self._sliced is not None or time.monotonic() < end:
                return False
            waiting = self._queue.most_urgent()
            return waiting is not None and waiting <= job.priority

        job.token.slice_over = slice_over

    def _park(self, job: Job) -> None:
        """A paused job: after the others of its priority when its slice was over, else first
        among them (it was paused for a more urgent one)."""
        if job.token.sliced:
            self._sliced = job
            self._queue.put(job, job.priority)
        else:
            self._queue.put_back(job, job.priority)

    def _emit(self, signal, *args) -> None:
        self._post.emit(lambda: signal.emit(*args))

    def _end(self, job: Job, signal, *args) -> None:
        # The function's closure holds the photo (and a detection's state): let it go now.
        # The Job itself lives on in its signal connections, which Python's GC cannot see.
        job.fn = None
        self._emit(signal, *args)
        self._emit(job.ended)

    def _make_engine(self):
        from faceapp.core.runtime.engine import Engine  # imports torch: only ever on this thread

        engine = Engine(self._device, self._runtime, self._precision)
        self.deviceReady.emit(engine.device_name)
        return engine
