"""A one-line progress bar on stderr (only when stderr is a terminal)."""

from __future__ import annotations

import sys

from faceapp.core.progress import Progress


class ProgressBar:
    def __init__(self, label: str, width: int = 28) -> None:
        self.label, self.width = label, width
        self.enabled = sys.stderr.isatty()
        self._last = ""

    def update(self, progress: Progress) -> None:
        if progress.stage == "prepare" and not self.enabled and progress.fraction == 0:
            print(progress.message, file=sys.stderr)  # a one-off wait: say so even in a log
        if not self.enabled:
            return
        filled = round(progress.fraction * self.width)
        line = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {progress.message}"
        if line != self._last:
            sys.stderr.write(line[:120].ljust(min(len(self._last), 120)))
            sys.stderr.flush()
            self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            sys.stderr.write("\r" + " " * min(len(self._last), 120) + "\r")
            sys.stderr.flush()
