"""Marking the photos faceapp writes, and recognising them when they come back.

Restoring a face that was already restored tends to make it look artificial (the models
sharpen what they themselves invented), so every export says that faceapp made it: the EXIF
`Software` tag (all formats) and, for PNG, a `Software` text chunk too, e.g.
"faceapp 0.1.0 (restored: gfpgan-1.4, strength 1)".
"""

from __future__ import annotations

import struct

from PIL import Image

from faceapp import __version__

SOFTWARE_TAG = 0x0131
_ASCII = 2
_EXIF_HEADER = b"Exif\x00\x00"
WARNING = (
    "This photo was already restored with faceapp; restoring it again tends to make faces "
    "look artificial."
)


def marker(note: str) -> str:
    """The Software text for a photo restored as `note` says (e.g. "restored: codeformer")."""
    return f"faceapp {__version__} ({note})"


def restored_note(photo) -> str | None:
    """The marker of a photo faceapp made (its EXIF Software text), or None."""
    text = software_of(photo.exif)
    return text if text is not None and text.startswith("faceapp") else None


def software_of(exif: bytes | None) -> str | None:
    if not exif:
        return None
    parsed = Image.Exif()
    try:
        parsed.load(exif)
        value = parsed.get(SOFTWARE_TAG)
    except (OSError, ValueError, SyntaxError, struct.error):
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value.strip("\x00 ") if isinstance(value, str) else None


def with_software(exif: bytes | None, text: str) -> bytes:
    """The EXIF block (b"Exif\\0\\0" + TIFF data) with IFD0's Software set to `text`.

    The other tags are not re-serialised: a new IFD0 (the old entries, Software added or
    replaced) is appended and the header pointed at it, so every offset into the old data,
    maker notes included, stays valid."""
    body = exif.removeprefix(_EXIF_HEADER) if exif else b""
    try:
        return _EXIF_HEADER + _append_ifd0(body, text)
    except (struct.error, ValueError):
        return _EXIF_HEADER + _append_ifd0(b"", text)  # unreadable EXIF: a fresh block


def _append_ifd0(tiff: bytes, text: str) -> bytes:
    if not tiff:
        tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<HI", 0, 0)
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        raise ValueError("not TIFF-structured EXIF")
    (old,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, old)
    entries = [tiff[old + 2 + 12 * i : old + 14 + 12 * i] for i in range(count)]
    (next_ifd,) = struct.unpack_from(order + "I", tiff, old + 2 + 12 * count)
    value = text.encode("ascii", "replace") + b"\x00"
    start = len(tiff) + len(tiff) % 2  # IFDs start on a word boundary
    new_count = len(entries) + 1 - any(_tag(e, order) == SOFTWARE_TAG for e in entries)
    value_at = start + 2 + 12 * new_count + 4
    software = struct.pack(order + "HHI", SOFTWARE_TAG, _ASCII, len(value))
    software += struct.pack(order + "I", value_at) if len(value) > 4 else value.ljust(4, b"\0")
    kept = [e for e in entries if _tag(e, order) != SOFTWARE_TAG] + [software]
    kept.sort(key=lambda e: _tag(e, order))
    ifd = struct.pack(order + "H", len(kept)) + b"".join(kept) + struct.pack(order + "I", next_ifd)
    out = bytearray(tiff + b"\0" * (start - len(tiff)) + ifd + (value if len(value) > 4 else b""))
    struct.pack_into(order + "I", out, 4, start)
    return bytes(out)


def _tag(entry: bytes, order: str) -> int:
    return struct.unpack_from(order + "H", entry)[0]
