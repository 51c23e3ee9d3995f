"""Progress reporting and cancellation shared by every long job of the core."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from faceapp.core.errors import Cancelled


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
