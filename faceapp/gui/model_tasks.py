"""Downloads and imports of model files, each on a QThread of its own, never on the GUI thread.

They are not inference: they never touch the device, so they run beside it (at most one job
per model at a time). Every job is a core function taking a progress callback and a cancel
token; a `ModelTask` turns its outcome into signals, which Qt delivers to the GUI thread.
Widgets connect to the relayed signals of the one `ModelTasks` the app owns.

Jobs are named by a key: the model id for downloads, ``import_key(path)`` for imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from faceapp.core import paths
from faceapp.core.errors import Cancelled
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.models.download import DownloadProgress, ProgressFn
from faceapp.core.models.store import ModelStoreError
from faceapp.core.progress import CancelToken
from faceapp.gui.error_panel import report_from_exception

log = logging.getLogger("faceapp.gui.models")

IMPORT_PREFIX = "import:"

# A job returns (id of the installed model, its file); it runs on the task's thread.
JobFn = Callable[[ProgressFn, CancelToken], tuple[str, Path]]


def import_key(path: str | Path) -> str:
    """The key of the job importing ``path``."""
    return IMPORT_PREFIX + str(Path(path))


class ModelTask(QObject):
    """One job. Lives in the GUI thread; `run` is called on the worker thread and emits exactly
    one of finished / failed / cancelled, as its last action."""

    progress = Signal(str, "qint64", "qint64", float)  # key, bytes done, total (0: unknown), B/s
    finished = Signal(str, str, str)  # key, id of the installed model, its file
    failed = Signal(str, str, str)  # key, message in plain words, technical details
    cancelled = Signal(str)  # key

    def __init__(self, key: str, job: JobFn, discard: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.key = key
        self.token = CancelToken()
        self._job = job
        self._discard = discard  # removes what a cancelled job leaves behind
        self._discard_on_cancel = True

    def cancel(self, discard: bool = True) -> None:
        """Ask the job to stop; ``discard=False`` keeps a partial download for a later resume."""
        self._discard_on_cancel = discard
        self.token.cancel()

    def run(self) -> None:
        try:
            model_id, path = self._job(self._report, self.token)
        except Cancelled:
            self._clean_up()
            self.cancelled.emit(self.key)
        except Exception as exc:  # the thread boundary: every error travels as data
            report = report_from_exception(exc)
            self.failed.emit(self.key, report.message, report.details)
        else:
            self.finished.emit(self.key, model_id, str(path))

    def _report(self, progress: DownloadProgress) -> None:
        total = progress.total or 0
        self.progress.emit(self.key, progress.downloaded, total, progress.bytes_per_second)

    def _clean_up(self) -> None:
        if not (self._discard_on_cancel and self._discard):
            return
        try:
            self._discard()
        except OSError:
            log.warning("Could not delete the partial download of %s", self.key, exc_info=True)


class _TaskThread(QThread):
    """Runs one task and ends: no event loop, so `wait()` alone stops it."""

    def __init__(self, task: ModelTask) -> None:
        super().__init__()
        self.setObjectName(f"faceapp-model-{task.key}")
        self.task = task

    def run(self) -> None:
        self.task.run()


class ModelTasks(QObject):
    """Starts model jobs and relays their signals; the app calls `shutdown` when it closes."""

    progress = Signal(str, "qint64", "qint64", float)
    finished = Signal(str, str, str)
    failed = Signal(str, str, str)
    cancelled = Signal(str)
    modelsChanged = Signal()  # after any install or removal: widgets showing models refresh

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: dict[str, _TaskThread] = {}
        self._progress: dict[str, tuple[int, int]] = {}

    # --- starting jobs ---

    def download(self, model_id: str) -> ModelTask:
        """Download a catalog model; a download of it already under way is returned instead."""

        def job(progress: ProgressFn, cancel: CancelToken) -> tuple[str, Path]:
            return model_id, model_store.download_model(model_id, progress, cancel)

        return self._start(model_id, job, lambda: _discard_partial(model_id))

    def import_file(
        self, path: str | Path, as_id: str | None = None, name: str | None = None
    ) -> ModelTask:
        """Copy a model file into the model folder (as ``as_id``, else as the file matches;
        a file that matches no catalog model becomes a custom model called ``name``)."""

        def job(_progress: ProgressFn, cancel: CancelToken) -> tuple[str, Path]:
            cancel.raise_if_cancelled()
            entry, dest = model_store.import_model(path, as_id=as_id, name=name)
            return entry.id, dest

        return self._start(import_key(path), job)

    def _start(self, key: str, job: JobFn, discard: Callable[[], None] | None = None) -> ModelTask:
        if key in self._threads:
            return self._threads[key].task
        task = ModelTask(key, job, discard)
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        thread = _TaskThread(task)
        self._threads[key] = thread
        thread.start()
        return task

    # --- queries and control ---

    def is_running(self, key: str) -> bool:
        return key in self._threads

    def busy(self) -> bool:
        return bool(self._threads)

    def running_keys(self) -> list[str]:
        return list(self._threads)

    def progress_of(self, key: str) -> tuple[int, int] | None:
        """(bytes done, total or 0) of the last progress report of a running job."""
        return self._progress.get(key)

    def cancel(self, key: str, discard: bool = True) -> bool:
        """Cancel a job; False when none runs under ``key``. See `ModelTask.cancel`."""
        thread = self._threads.get(key)
        if thread is None:
            return False
        thread.task.cancel(discard)
        return True

    def remove(self, model_id: str) -> Path:
        """Delete an installed model (on the GUI thread: it is one unlink). Raises FaceappError."""
        if model_id in self._threads:
            raise ModelStoreError("This model is downloading: cancel the download first.")
        path = model_store.remove(model_id)
        self.modelsChanged.emit()
        return path

    def shutdown(self) -> None:
        """Cancel every job (keeping partial downloads for a later resume) and wait for each
        thread to end. Downloads notice within a network timeout, imports when their copy ends."""
        for thread in self._threads.values():
            thread.task.cancel(discard=False)
        for thread in list(self._threads.values()):
            thread.wait()
        self._threads.clear()
        self._progress.clear()

    # --- relays, on the GUI thread ---

    @Slot(str, "qint64", "qint64", float)
    def _on_progress(self, key: str, done: int, total: int, speed: float) -> None:
        if key in self._threads:
            self._progress[key] = (done, total)
            self.progress.emit(key, done, total, speed)

    @Slot(str, str, str)
    def _on_finished(self, key: str, model_id: str, path: str) -> None:
        self._reap(key)
        self.finished.emit(key, model_id, path)
        self.modelsChanged.emit()

    @Slot(str, str, str)
    def _on_failed(self, key: str, message: str, details: str) -> None:
        self._reap(key)
        self.failed.emit(key, message, details)

    @Slot(str)
    def _on_cancelled(self, key: str) -> None:
        self._reap(key)
        self.cancelled.emit(key)

    def _reap(self, key: str) -> None:
        self._progress.pop(key, None)
        thread = self._threads.pop(key, None)
        if thread is None:
            return
        thread.wait()  # the task's last act was the signal being handled: this returns at once
        thread.task.deleteLater()  # the thread itself goes with its last reference


def _discard_partial(model_id: str) -> None:
    # The core keeps a cancelled download's .part to resume it; a cancel in the GUI means
    # "I do not want it", so the part goes.
    entry = catalog.get_entry(model_id)
    (paths.models_dir() / f"{entry.file_name}.part").unlink(missing_ok=True)
