"""Warnings the command line prints on stderr, beside the results."""

from __future__ import annotations

import sys

from faceapp.core.photo.reading import Photo


def warn_if_restored(image: str, photo: Photo) -> None:
    """A photo faceapp already restored: restoring it again tends to look artificial."""
    note = photo.restored_with
    if note is not None:
        print(
            f"warning: {image}: already restored ({note}); restoring it again tends to "
            "make faces look artificial",
            file=sys.stderr,
        )
