"""faceapp.core.photo.writing: formats, bit depths, metadata, names and atomic saving."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest
from conftest import require_shared
from PIL import Image, ImageCms

from faceapp.core.errors import ImageWriteError
from faceapp.core.photo import writing as image_write
from faceapp.core.photo.reading import Photo, photo_from_array, read_photo
from faceapp.core.photo.writing import SaveOptions, output_path_for, resolve_format, save_photo

RNG = np.random.default_rng(7)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def full_range(shape: tuple[int, ...], dtype: type = np.uint16) -> np.ndarray:
    """Random samples that use every bit, including the extremes."""
    samples = RNG.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    samples.flat[0], samples.flat[1], samples.flat[2] = 0, 1, np.iinfo(dtype).max
    return samples


def camera_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "FaceappCam"
    exif[0x0112] = 1
    exif[0x8769] = {0x9003: "2001:02:03 04:05:06"}
    return exif.tobytes()


def photo_with_metadata(array: np.ndarray, source_format: str | None = None) -> Photo:
    photo = photo_from_array(array)
    photo.exif, photo.icc_profile, photo.source_format = camera_exif(), SRGB, source_format
    return photo


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".faceapp-" in p.name)


def exif_of(path: Path) -> tuple[dict[int, object], dict[int, object]]:
    """(IFD0 tags, Exif sub-IFD tags) of a file."""
    with Image.open(path) as image:
        exif = image.getexif()
        return dict(exif), dict(exif.get_ifd(0x8769))


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "source", "expected"),
    [
        ("auto", "JPEG", "jpg"),
        ("auto", "PNG", "png"),
        ("auto", "WEBP", "webp"),
        ("auto", "TIFF", "tiff"),
        ("auto", "BMP", "png"),
        ("auto", "GIF", "png"),
        ("auto", "HEIF", "png"),
        ("auto", None, "png"),
        ("JPEG", "PNG", "jpg"),
        ("tif", None, "tiff"),
    ],
)
def test_resolve_format(option: str, source: str | None, expected: str) -> None:
    assert resolve_format(option, source) == expected


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="format"):
        SaveOptions(format="gif")
    with pytest.raises(ValueError, match="quality"):
        SaveOptions(quality=0)
    assert SaveOptions(format="JPEG").format == "jpg"


def test_output_names(tmp_path: Path) -> None:
    source = tmp_path / "Oma.JPG"
    source.write_bytes(b"x")
    first = output_path_for(source, None, "jpg", overwrite=False)
    assert first == tmp_path / "Oma_restored.JPG"
    first.write_bytes(b"taken")
    assert output_path_for(source, None, "jpg", False) == tmp_path / "Oma_restored-2.JPG"
    (tmp_path / "Oma_restored-2.JPG").write_bytes(b"taken")
    assert output_path_for(source, None, "jpg", False) == tmp_path / "Oma_restored-3.JPG"
    assert output_path_for(source, None, "jpg", overwrite=True) == first


def test_output_names_other_folder_and_format(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    source = tmp_path / "scan.tiff"
    assert output_path_for(source, out_dir, "tiff", False) == out_dir / "scan_restored.tiff"
    assert output_path_for(source, out_dir, "png", False) == out_dir / "scan_restored.png"
    assert output_path_for(source, None, "jpg", False) == tmp_path / "scan_restored.jpg"


def test_output_name_never_the_input(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    source.write_bytes(b"original")
    (tmp_path / "a_restored.png").symlink_to(source)
    with pytest.raises(ImageWriteError, match="original photo"):
        output_path_for(source, None, "png", overwrite=True)


# --- exact round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "tiff"])
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lossless_roundtrip_is_exact(tmp_path: Path, fmt: str, channels: int, dtype: type) -> None:
    original = full_range((13, 17, channels), dtype)
    first = photo_with_metadata(original)
    path = save_photo(first, tmp_path / f"x.{fmt}", SaveOptions())
    again = read_photo(path)
    np.testing.assert_array_equal(again.pixels, first.pixels)
    if channels == 4:
        np.testing.assert_array_equal(again.alpha, first.alpha)
    assert again.bit_depth == first.bit_depth and again.grayscale == (channels == 1)
    # read -> write -> read again: still exact, metadata included
    second = save_photo(again, tmp_path / f"y.{fmt}", SaveOptions())
    final = read_photo(second)
    np.testing.assert_array_equal(final.pixels, first.pixels)
    ifd0, sub_ifd = exif_of(second)
    assert final.exif is not None and ifd0[0x010F] == "FaceappCam"
    assert sub_ifd[0x9003] == "2001:02:03 04:05:06"
    assert final.icc_profile == (SRGB if channels > 1 else None)


def test_16bit_gray_is_single_channel(tmp_path: Path) -> None:
    gray = full_range((6, 8))
    for fmt in ("png", "tiff"):
        path = save_photo(photo_from_array(gray), tmp_path / f"g.{fmt}", SaveOptions())
        with Image.open(path) as image:
            assert image.mode == "I;16"
            np.testing.assert_array_equal(np.asarray(image), gray)


def test_16bit_gray_with_alpha_is_kept_exactly(tmp_path: Path) -> None:
    samples = full_range((5, 6, 2))
    photo = photo_from_array(
        np.concatenate([np.repeat(samples[:, :, :1], 3, 2), samples[:, :, 1:]], 2)
    )
    photo.grayscale = True
    for fmt in ("png", "tiff"):
        back = read_photo(save_photo(photo, tmp_path / f"ga.{fmt}", SaveOptions()))
        np.testing.assert_array_equal(back.pixels[:, :, 0], photo.pixels[:, :, 0])
        np.testing.assert_array_equal(back.alpha, samples[:, :, 1])


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_16bit_is_rounded_for_8bit_formats(tmp_path: Path, fmt: str) -> None:
    deep = np.full((16, 16, 3), 257 * 100 + 128, np.uint16)  # 100.498 in 8 bits
    deep[:, :, 1] = 257 * 200 + 129  # 200.502
    path = save_photo(photo_from_array(deep), tmp_path / f"x.{fmt}", SaveOptions(quality=100))
    back = read_photo(path)
    assert back.bit_depth == 8
    assert np.abs(back.pixels[:, :, 0].astype(int) - 100).max() <= 1
    assert np.abs(back.pixels[:, :, 1].astype(int) - 201).max() <= 1


def test_webp_keeps_alpha(tmp_path: Path) -> None:
    rgba = full_range((8, 8, 4), np.uint8)
    back = read_photo(save_photo(photo_from_array(rgba), tmp_path / "a.webp", SaveOptions()))
    np.testing.assert_array_equal(back.alpha, rgba[:, :, 3])


def test_jpeg_flattens_alpha_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:, :8] = (20, 40, 200, 255)  # opaque blue on the left, transparent on the right
    path = save_photo(photo_from_array(rgba), tmp_path / "a.jpg", SaveOptions(quality=100))
    back = read_photo(path)
    assert back.alpha is None
    assert np.abs(back.pixels[4, 2].astype(int) - (20, 40, 200)).max() <= 4
    assert back.pixels[4, 13].min() >= 250


@pytest.mark.parametrize("fmt", ["jpg", "png", "tiff"])
def test_gray_stays_gray(tmp_path: Path, fmt: str) -> None:
    photo = photo_from_array(full_range((8, 8), np.uint8))
    with Image.open(save_photo(photo, tmp_path / f"g.{fmt}", SaveOptions())) as image:
        assert image.mode == "L"


def test_grayscale_photo_that_gained_colour_is_written_as_luma(tmp_path: Path) -> None:
    rgb = full_range((8, 8, 3), np.uint8)
    photo = photo_from_array(rgb)
    photo.grayscale = True  # a gray source whose restoration tinted it
    with Image.open(save_photo(photo, tmp_path / "g.png", SaveOptions())) as image:
        assert image.mode == "L"
        written = np.asarray(image).astype(int)
    expected = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(written - expected).max() <= 1


# --- metadata ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp", "tiff"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_metadata_kept(tmp_path: Path, fmt: str, dtype: type) -> None:
    photo = photo_with_metadata(full_range((8, 8, 3), dtype))
    path = save_photo(photo, tmp_path / f"m.{fmt}", SaveOptions())
    with Image.open(path) as image:
        assert image.info.get("icc_profile") == SRGB
    ifd0, sub_ifd = exif_of(path)
    assert ifd0[0x010F] == "FaceappCam" and ifd0.get(0x0112, 1) == 1
    assert sub_ifd[0x9003] == "2001:02:03 04:05:06"


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp", "tiff"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_metadata_stripped(tmp_path: Path, fmt: str, dtype: type) -> None:
    source = tmp_path / "source.jpg"
    source.write_bytes(b"pretend")
    os.utime(source, (1_000_000_000, 1_000_000_000))
    photo = photo_with_metadata(full_range((8, 8, 3), dtype))
    options = SaveOptions(keep_metadata=False)
    path = save_photo(photo, tmp_path / f"m.{fmt}", options, source=source)
    with Image.open(path) as image:
        assert not image.info.get("icc_profile")
        assert 0x010F not in image.getexif() and 0x8769 not in image.getexif()
    assert path.stat().st_mtime != 1_000_000_000


def test_rgb_profile_not_written_into_gray_file(tmp_path: Path) -> None:
    photo = photo_with_metadata(full_range((8, 8), np.uint8))
    with Image.open(save_photo(photo, tmp_path / "g.jpg", SaveOptions())) as image:
        assert image.mode == "L" and not image.info.get("icc_profile")


def test_dates_are_carried_over(tmp_path: Path) -> None:
    source = tmp_path / "source.jpg"
    source.write_bytes(b"pretend")
    os.utime(source, ns=(1_100_000_000_123_456_789, 1_000_000_000_987_654_321))
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    path = save_photo(photo, tmp_path / "out.png", SaveOptions(), source=source)
    assert path.stat().st_mtime_ns == source.stat().st_mtime_ns


@pytest.mark.shared
def test_real_photo_roundtrip_keeps_icc_and_exif(tmp_path: Path) -> None:
    source = require_shared("photos", "misc_faces", "deepface__img1.jpg")
    photo = read_photo(source)
    path = save_photo(photo, tmp_path / "img1_restored.jpg", SaveOptions(), source=source)
    again = read_photo(path)
    assert again.size == photo.size and again.icc_profile == photo.icc_profile
    (written, written_sub), (original, original_sub) = exif_of(path), exif_of(source)
    assert len(original) > 3 and written.get(0x0112, 1) == 1 and written_sub == original_sub
    assert {k: v for k, v in written.items() if k != 0x0112} == {
        k: v for k, v in original.items() if k != 0x0112
    }


# --- the original is never touched -------------------------------------------------------------


def test_original_is_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    Image.fromarray(full_range((20, 30, 3), np.uint8)).save(source, "JPEG")
    before, mtime = source.read_bytes(), source.stat().st_mtime_ns
    photo = read_photo(source)
    target = output_path_for(source, None, resolve_format("auto", photo.source_format), False)
    written = save_photo(photo, target, SaveOptions(), source=source)
    assert written == tmp_path / "photo_restored.jpg"
    assert source.read_bytes() == before and source.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("overwrite", [False, True])
def test_saving_onto_the_source_is_refused(tmp_path: Path, overwrite: bool) -> None:
    source = tmp_path / "photo.png"
    Image.new("RGB", (4, 4)).save(source)
    before = source.read_bytes()
    photo = read_photo(source)
    options = SaveOptions(overwrite=overwrite)
    with pytest.raises(ImageWriteError, match="original photo"):
        save_photo(photo, source, options)
    with pytest.raises(ImageWriteError, match="original photo"):
        save_photo(photo_from_array(photo.pixels), tmp_path / "." / "photo.png", options, source)
    assert source.read_bytes() == before and leftovers(tmp_path) == []


# --- existing files ----------------------------------------------------------------------------


def test_existing_file_is_not_clobbered(tmp_path: Path) -> None:
    target = tmp_path / "x_restored.png"
    target.write_bytes(b"someone else's file")
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    written = save_photo(photo, target, SaveOptions())
    assert written == tmp_path / "x_restored-2.png"
    assert target.read_bytes() == b"someone else's file"
    assert save_photo(photo, target, SaveOptions()) == tmp_path / "x_restored-3.png"
    assert leftovers(tmp_path) == []


def test_file_created_while_encoding_is_not_clobbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x_restored.png"
    real_fsync = os.fsync

    def another_program_saves_first(fd: int) -> None:
        target.write_bytes(b"written meanwhile")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", another_program_saves_first)
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    assert save_photo(photo, target, SaveOptions()) == tmp_path / "x_restored-2.png"
    assert target.read_bytes() == b"written meanwhile" and leftovers(tmp_path) == []


def test_overwrite_replaces(tmp_path: Path) -> None:
    target = tmp_path / "x_restored.png"
    target.write_bytes(b"old result")
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    assert save_photo(photo, target, SaveOptions(overwrite=True)) == target
    assert read_photo(target).size == (4, 4)


def test_without_hard_links_still_no_clobber(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "x_restored.png"
    target.write_bytes(b"keep me")
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    assert save_photo(photo, target, SaveOptions()) == tmp_path / "x_restored-2.png"
    assert target.read_bytes() == b"keep me" and leftovers(tmp_path) == []


def test_new_file_has_normal_permissions(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    path = save_photo(photo, tmp_path / "p.png", SaveOptions())
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_non_ascii_output(tmp_path: Path) -> None:
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    path = save_photo(photo, tmp_path / "grand-mère_写真_restored.jpg", SaveOptions())
    assert read_photo(path).size == (4, 4)


# --- failures leave nothing behind -------------------------------------------------------------


class EncoderCrash(Exception):
    pass


@pytest.mark.parametrize("fmt", ["png", "jpg", "tiff"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_encoder_failure_midway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, dtype: type
) -> None:
    def half_then_crash(stream: BinaryIO) -> None:
        stream.write(b"\x89PNG half a file")
        raise EncoderCrash

    def pillow_save(_: Image.Image, stream: BinaryIO, *__: object, **___: object) -> None:
        half_then_crash(stream)

    monkeypatch.setattr(Image.Image, "save", pillow_save)
    monkeypatch.setattr(image_write, "_bytes_writer", lambda _: half_then_crash)
    target = tmp_path / f"out.{fmt}"
    target.write_bytes(b"previous result")
    photo = photo_from_array(full_range((4, 4, 3), dtype))
    with pytest.raises(EncoderCrash):
        save_photo(photo, target, SaveOptions(overwrite=True))
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out.{fmt}"]


def test_disk_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(_: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="disk holding .* is full") as caught:
        save_photo(photo, tmp_path / "out.png", SaveOptions())
    assert str(tmp_path) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_encoder_refusal_is_a_write_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise ValueError("cannot encode this")

    monkeypatch.setattr(Image.Image, "save", refuse)
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="Cannot save 'out.png': cannot encode this"):
        save_photo(photo, tmp_path / "out.png", SaveOptions())
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path: Path) -> None:
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="folder .*nowhere' does not exist"):
        save_photo(photo, tmp_path / "nowhere" / "out.png", SaveOptions())


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="notes.txt' is not a folder"):
        save_photo(photo, tmp_path / "notes.txt" / "out.png", SaveOptions())


def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        try:
            (folder / "probe").write_bytes(b"")
        except PermissionError:
            pass
        else:
            pytest.skip("permissions do not stop this user (root): see the mkstemp test")
        photo = photo_from_array(full_range((4, 4, 3), np.uint8))
        with pytest.raises(ImageWriteError, match="may not write in the folder .*locked"):
            save_photo(photo, folder / "out.png", SaveOptions())
    finally:
        folder.chmod(0o700)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*_: object, **__: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(image_write.tempfile, "mkstemp", denied)
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    with pytest.raises(ImageWriteError, match=f"may not write in the folder '{tmp_path}'"):
        save_photo(photo, tmp_path / "out.png", SaveOptions())


def test_extension_must_match_format(tmp_path: Path) -> None:
    photo = photo_from_array(full_range((4, 4, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="extension"):
        save_photo(photo, tmp_path / "out.jpg", SaveOptions(format="png"))
    assert save_photo(photo, tmp_path / "result", SaveOptions(format="png")).exists()


def test_webp_size_limit(tmp_path: Path) -> None:
    photo = photo_from_array(np.zeros((1, 16384, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="WEBP files hold at most 16383 pixels a side"):
        save_photo(photo, tmp_path / "wide.webp", SaveOptions())
    assert list(tmp_path.iterdir()) == []
