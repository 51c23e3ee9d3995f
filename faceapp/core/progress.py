"""Progress reporting and cancellation shared by every long job of the core."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

from faceapp.core.errors import Cancelled

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    stage: str  # short machine-readable name: "load", "detect", "restore", "download", ...
    fraction: float  # 0..1 within the whole job
    message: str = ""  # human words, e.g. "Restoring face 2 of 5"


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """A progress callback that ignores everything."""


class CancelToken:
    """Set from any thread; long jobs check it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def run_steps(
    steps: Generator[float, None, T],
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    stage: str = "detect",
    message: str = "Finding faces",
) -> T:
    """Drive a generator of steps (it yields the fraction done) to its result, checking for a
    cancel and reporting progress at each step. An exception raised by `progress` leaves the
    generator paused where it was: calling run_steps on it again goes on from there."""
    while True:
        try:
            fraction = next(steps)
        except StopIteration as done:
            return done.value
        if progress:
            progress(Progress(stage, fraction, message))
        if cancel:  # right before the next step
            cancel.raise_if_cancelled()
