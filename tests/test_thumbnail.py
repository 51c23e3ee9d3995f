"""Thumbnails for the photo list, without decoding whole photos."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import photo_path
from PIL import Image

from faceapp.core.photo.reading import read_photo
from faceapp.core.photo.thumbnail import read_thumbnail


@pytest.mark.shared
def test_the_cameras_exif_thumbnail_is_used_when_there_is_one(monkeypatch) -> None:
    path = photo_path("misc_faces", "facexlib__test.jpg")  # carries a 129 x 160 thumbnail
    opened = []
    real_draft = Image.Image.draft
    monkeypatch.setattr(Image.Image, "draft", lambda *a: opened.append(a) or real_draft(*a))
    small = read_thumbnail(path, 96)
    assert small.shape == (96, 77, 3) and small.dtype == np.uint8
    assert all(a[0].size != (418, 520) for a in opened)  # the photo itself was not decoded
    photo = read_photo(path).pixels
    expected = np.asarray(Image.fromarray(photo).resize((77, 96), Image.Resampling.BOX))
    assert np.abs(small.astype(int) - expected).mean() < 12  # the same picture


def test_without_exif_a_shrunk_decode_keeps_the_photos_shape_upright(tmp_path) -> None:
    pixels = np.zeros((300, 600, 3), np.uint8)
    pixels[:, :300] = (250, 0, 0)  # left half red
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    small = read_thumbnail(path, 64)
    assert small.shape == (64, 32, 3)
    assert small[5, 16, 0] > 200 and small[-5, 16, 0] < 50  # the red half is now on top
