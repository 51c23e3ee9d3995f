"""The "already restored" marker: written into every format, read back, and the rest of the
EXIF left intact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceapp.core.photo.provenance import marker, software_of, with_software
from faceapp.core.photo.reading import photo_from_array, read_photo
from faceapp.core.photo.writing import SaveOptions, save_photo

MAKE, MODEL, SOFTWARE, DATE_ORIGINAL, EXIF_IFD = 0x010F, 0x0110, 0x0131, 0x9003, 0x8769


def _camera_exif(software: str | None = "Camera firmware 1.0") -> bytes:
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "Acme", "Box 1"
    if software:
        exif[SOFTWARE] = software
    exif[EXIF_IFD] = {DATE_ORIGINAL: "1961:07:14 10:00:00"}
    return exif.tobytes()


def _photo(dtype=np.uint8, exif: bytes | None = None):
    top = np.iinfo(dtype).max
    pixels = (np.linspace(0, top, 48 * 64 * 3) % top).astype(dtype).reshape(48, 64, 3)
    photo = photo_from_array(pixels)
    photo.exif = exif
    return photo


@pytest.mark.parametrize(
    ("suffix", "dtype"),
    [
        (".png", np.uint8),
        (".png", np.uint16),
        (".jpg", np.uint8),
        (".webp", np.uint8),
        (".tif", np.uint8),
        (".tif", np.uint16),
    ],
)
def test_the_marker_round_trips_and_keeps_the_other_tags(tmp_path: Path, suffix, dtype) -> None:
    note = marker("restored: codeformer, fidelity 0.7")
    written = save_photo(
        _photo(dtype, _camera_exif()), tmp_path / f"out{suffix}", SaveOptions(software=note)
    )
    back = read_photo(written)
    assert back.restored_with == note
    exif = Image.Exif()
    exif.load(back.exif)
    assert (exif[MAKE], exif[MODEL]) == ("Acme", "Box 1")
    assert exif.get_ifd(EXIF_IFD)[DATE_ORIGINAL] == "1961:07:14 10:00:00"


def test_png_also_carries_a_software_text_chunk(tmp_path: Path) -> None:
    written = save_photo(_photo(), tmp_path / "out.png", SaveOptions(software=marker("x")))
    with Image.open(written) as image:
        assert image.text["Software"] == marker("x")


def test_the_marker_is_written_without_other_metadata(tmp_path: Path) -> None:
    options = SaveOptions(keep_metadata=False, software=marker("restored: gfpgan-1.4"))
    written = save_photo(_photo(exif=_camera_exif()), tmp_path / "out.jpg", options)
    back = read_photo(written)
    assert back.restored_with == marker("restored: gfpgan-1.4")
    exif = Image.Exif()
    exif.load(back.exif)
    assert MAKE not in exif


def test_photos_from_elsewhere_are_not_marked(tmp_path: Path) -> None:
    written = save_photo(_photo(exif=_camera_exif()), tmp_path / "plain.jpg", SaveOptions())
    assert read_photo(written).restored_with is None
    assert software_of(read_photo(written).exif) == "Camera firmware 1.0"


def test_the_software_tag_is_replaced_not_repeated() -> None:
    twice = with_software(with_software(_camera_exif(), "faceapp A"), "faceapp B")
    assert software_of(twice) == "faceapp B"
    exif = Image.Exif()
    exif.load(twice)
    assert list(exif).count(SOFTWARE) == 1 and exif[MAKE] == "Acme"
    assert software_of(with_software(b"Exif\x00\x00garbage", "faceapp C")) == "faceapp C"
    assert software_of(with_software(_camera_exif(None), "abc")) == "abc"  # short value inline
