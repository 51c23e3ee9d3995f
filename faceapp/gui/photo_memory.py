"""Which opened photos keep their decoded pixels. A 12-megapixel photo takes 36 MB decoded
(72 MB at 16 bits): with hundreds opened, only the most recently used stay decoded; the
others keep their faces and thumbnail, and are read again from their file when needed."""

from __future__ import annotations

from faceapp.gui.state import PhotoDoc

BUDGET_BYTES = 1 << 30  # decoded photos kept beyond the one on screen and those being worked on


class PhotoMemory:
    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self._recent: list[PhotoDoc] = []  # decoded, least recently used first
        self._released: list[PhotoDoc] = []

    def used(self, doc: PhotoDoc, keep: PhotoDoc | None = None, hold: bool = True) -> None:
        """`doc`'s photo was just needed: release the least recently used photos while over
        budget, never `keep` (the photo on screen), nor `doc` itself when `hold`."""
        if doc.photo is None:
            return
        self._drop(doc)
        self._recent.append(doc)
        kept = (keep, doc) if hold else (keep,)
        total = sum(_size(d) for d in self._recent)
        for old in list(self._recent):
            if total <= self.budget:
                break
            if all(old is not k for k in kept) and _releasable(old):
                total -= _size(old)
                old.photo = None
                self._recent.remove(old)
                self._released.append(old)

    def released(self, doc: PhotoDoc) -> bool:
        """Its pixels were let go: read the file again before using them."""
        return any(d is doc for d in self._released)

    def forget(self, doc: PhotoDoc) -> None:
        """The photo was closed."""
        self._drop(doc)

    def _drop(self, doc: PhotoDoc) -> None:
        self._recent = [d for d in self._recent if d is not doc]
        self._released = [d for d in self._released if d is not doc]


def _releasable(doc: PhotoDoc) -> bool:
    """Only photos with a file to read again, and nothing in progress or made from them."""
    return doc.path is not None and doc.photo is not None and doc.result is None and not doc.busy


def _size(doc: PhotoDoc) -> int:
    photo = doc.photo
    if photo is None:
        return 0
    return photo.pixels.nbytes + (photo.alpha.nbytes if photo.alpha is not None else 0)
