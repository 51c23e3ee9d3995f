"""The inference thread's queue: the most urgent job first, and a waiting job can be moved."""

from __future__ import annotations

import enum
import itertools
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Priority(enum.IntEnum):
    """Lower runs first; jobs of one priority run in the order they were queued."""

    NOW = 0  # what the user just asked for: restore, export, a drawn face box, warm-up
    SELECTED = 1  # reading and finding faces in the photo on screen
    VISIBLE = 2  # ... in the photos visible in the list
    BACKGROUND = 3  # ... in the other opened photos
    LAST = 4  # the stop marker: after everything else


class JobQueue(Generic[T]):
    """A thread-safe priority queue whose waiting items can be given a new priority."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[tuple[int, int], T]] = {}  # id(item) -> (order, item)
        self._count = itertools.count()
        self._back = itertools.count(-1, -1)  # put_back: ahead of the others of its priority
        self._changed = threading.Condition()

    def put(self, item: T, priority: int) -> None:
        with self._changed:
            self._items[id(item)] = ((int(priority), next(self._count)), item)
            self._changed.notify()

    def put_back(self, item: T, priority: int) -> None:
        """An item taken out and started, then paused: first again among its priority."""
        with self._changed:
            self._items[id(item)] = ((int(priority), next(self._back)), item)
            self._changed.notify()

    def most_urgent(self) -> int | None:
        """The priority the next get() would return; None when empty."""
        with self._changed:
            return min((order[0] for order, _ in self._items.values()), default=None)

    def move(self, item: T, priority: int) -> bool:
        """Give a waiting item a new priority (it keeps its place in the order of queuing);
        False when it is no longer waiting (running or done)."""
        with self._changed:
            entry = self._items.get(id(item))
            if entry is None:
                return False
            (_, queued), _ = entry
            self._items[id(item)] = ((int(priority), queued), item)
            return True

    def get(self) -> T:
        """The most urgent item, waiting for one if the queue is empty."""
        with self._changed:
            while not self._items:
                self._changed.wait()
            key = min(self._items, key=lambda k: self._items[k][0])
            return self._items.pop(key)[1]

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)
