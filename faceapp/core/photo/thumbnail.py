"""A photo's small picture for lists, without decoding the whole photo: the thumbnail the
camera stored in the EXIF data when there is one, else a JPEG decoded at 1/2, 1/4 or 1/8 of
its size (libjpeg does that for almost free), upright."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

_THUMB_OFFSET, _THUMB_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat(Length), in IFD1
_TIFF_START = 6  # after b"Exif\0\0"


def read_thumbnail(path: Path, side: int) -> np.ndarray:
    """H x W x 3 uint8 RGB whose longest side is about `side` (never much larger than the
    photo). Raises OSError or Pillow's errors for unreadable files, like reading the photo."""
    with Image.open(path) as image:
        small = _exif_thumbnail(image, side)
        if small is None:
            image.draft("RGB", (side, side))  # JPEG: decode shrunk; other formats: no-op
            small = ImageOps.exif_transpose(image)
        else:
            small = _upright(small, image.getexif().get(ExifTags.Base.Orientation, 1))
        small = small.convert("RGB")
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        return np.asarray(small)


def _exif_thumbnail(image: Image.Image, side: int) -> Image.Image | None:
    """The camera's own thumbnail when it is big enough for `side` and has the photo's shape."""
    raw = image.info.get("exif")
    if not raw:
        return None
    try:
        ifd1 = image.getexif().get_ifd(ExifTags.IFD.IFD1)
        start, length = ifd1.get(_THUMB_OFFSET), ifd1.get(_THUMB_LENGTH)
        if not start or not length:
            return None
        thumb = Image.open(io.BytesIO(raw[_TIFF_START + start : _TIFF_START + start + length]))
        thumb.load()
    except Exception:  # a damaged thumbnail is no reason to fail: decode the photo instead
        return None
    ratio = (thumb.width / thumb.height) / (image.width / image.height)
    if max(thumb.size) < side or not 0.95 < ratio < 1.05:  # black bars, or too small
        return None
    return thumb


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    image.getexif()[ExifTags.Base.Orientation] = orientation
    return ImageOps.exif_transpose(image)
