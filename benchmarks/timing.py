"""Per-stage wall-clock and CPU times, synchronised with the device so that GPU work is counted
in the stage that queued it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

STAGES = ("load", "detect", "align", "restore", "paste", "background", "write")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Adds up seconds per stage name: wall-clock time, and this process's CPU time (all its
    threads), which other programs on a shared machine disturb much less."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.details: dict[str, float] = {}  # parts of a stage, not added to the total

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            synchronize(self.device)
            self.add(name, time.perf_counter() - wall, time.process_time() - cpu)

    def add(self, name: str, seconds: float, cpu: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


class StageClock:
    """A progress callback that turns stage changes into Stopwatch entries: a stage lasts from
    its first report to the first report of the next one (or to finish())."""

    def __init__(self, watch: Stopwatch, first: str) -> None:
        self.watch, self.stage = watch, first
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __call__(self, progress) -> None:
        if progress.stage != self.stage:
            self._close()
            self.stage = progress.stage

    def finish(self) -> None:
        self._close()

    def _close(self) -> None:
        synchronize(self.watch.device)
        wall, cpu = time.perf_counter(), time.process_time()
        self.watch.add(self.stage, wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
