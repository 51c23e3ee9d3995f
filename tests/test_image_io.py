"""faceapp.core.photo.reading: reading photos of every kind, and refusing what is not one."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import require_shared
from PIL import Image, ImageCms, ImageOps, TiffImagePlugin, features

from faceapp.core.errors import ImageReadError
from faceapp.core.photo import reading as image_io
from faceapp.core.photo.reading import (
    DEFAULT_MAX_PIXELS,
    from_float,
    photo_from_array,
    read_photo,
    to_float,
)

RNG = np.random.default_rng(20240611)


# --- helpers that build test files -------------------------------------------------------------


def random_rgb(height: int = 6, width: int = 9, dtype: type = np.uint8) -> np.ndarray:
    top = np.iinfo(dtype).max + 1
    return RNG.integers(0, top, (height, width, 3), dtype=dtype)


def exif_bytes(orientation: int = 1, **tags: object) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "FaceappCam"
    for key, value in tags.items():
        exif[int(key.removeprefix("t"))] = value
    return exif.tobytes()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_exif_chunk(png: bytes, exif: bytes) -> bytes:
    """Add an eXIf chunk right after IHDR (33 bytes into the file)."""
    return png[:33] + png_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")) + png[33:]


def png16_bytes(samples: np.ndarray, exif: bytes | None = None) -> bytes:
    """A 16-bit PNG written by OpenCV from RGB(A) or gray samples."""
    if samples.ndim == 3:
        samples = samples[:, :, [2, 1, 0, 3][: samples.shape[2]]]
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(samples))
    assert ok
    data = encoded.tobytes()
    return with_exif_chunk(data, exif) if exif else data


def tiff16_bytes(samples: np.ndarray, orientation: int = 1, icc: bytes | None = None) -> bytes:
    """An uncompressed 16-bit RGB(A) TIFF laid out with Pillow's tag writer."""
    height, width, channels = samples.shape
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    ifd[256], ifd[257], ifd[258] = width, height, (16,) * channels
    ifd[259], ifd[262], ifd[274], ifd[277] = 1, 2, orientation, channels
    ifd[271] = "FaceappCam"
    ifd[273], ifd[278], ifd[279], ifd[284] = 0, height, samples.nbytes, 1
    if channels == 4:
        ifd[338] = 2
    if icc:
        ifd[34675] = icc
        ifd.tagtype[34675] = 7
    out = io.BytesIO()
    ifd.save(out)
    out.write(samples.astype("<u2").tobytes())
    return out.getvalue()


def save_pillow(image: Image.Image, path: Path, fmt: str, **params: object) -> Path:
    image.save(path, format=fmt, **params)
    return path


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def upright_by_pillow(stored: np.ndarray, orientation: int) -> np.ndarray:
    """The oracle: Pillow's exif_transpose applied channel by channel (works for 16 bits)."""
    channels = []
    for index in range(stored.shape[2]):
        plane = Image.fromarray(np.ascontiguousarray(stored[:, :, index]))
        exif = plane.getexif()
        exif[0x0112] = orientation
        plane.info["exif"] = exif.tobytes()
        channels.append(np.asarray(ImageOps.exif_transpose(plane)))
    return np.stack(channels, axis=2)


# --- orientation -------------------------------------------------------------------------------


def write_png8(path: Path, stored: np.ndarray, orientation: int) -> None:
    Image.fromarray(stored).save(path, "PNG", exif=exif_bytes(orientation))


def write_png16(path: Path, stored: np.ndarray, orientation: int) -> None:
    path.write_bytes(png16_bytes(stored, exif_bytes(orientation)))


def write_tiff8(path: Path, stored: np.ndarray, orientation: int) -> None:
    Image.fromarray(stored).save(path, "TIFF", exif=exif_bytes(orientation))


def write_tiff16(path: Path, stored: np.ndarray, orientation: int) -> None:
    path.write_bytes(tiff16_bytes(stored, orientation))


def write_webp(path: Path, stored: np.ndarray, orientation: int) -> None:
    Image.fromarray(stored).save(path, "WEBP", lossless=True, exif=exif_bytes(orientation))


WRITERS: dict[str, tuple[Callable[[Path, np.ndarray, int], None], type]] = {
    "png8": (write_png8, np.uint8),
    "png16": (write_png16, np.uint16),
    "tiff8": (write_tiff8, np.uint8),
    "tiff16": (write_tiff16, np.uint16),
    "webp": (write_webp, np.uint8),
}


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("kind", WRITERS)
def test_every_exif_orientation_is_applied(tmp_path: Path, kind: str, orientation: int) -> None:
    writer, dtype = WRITERS[kind]
    stored = random_rgb(5, 8, dtype)
    path = tmp_path / f"o{orientation}.img"
    writer(path, stored, orientation)
    photo = read_photo(path)
    expected = upright_by_pillow(stored, orientation)
    assert photo.pixels.dtype == dtype
    np.testing.assert_array_equal(photo.pixels, expected)
    assert photo.pixels.flags.c_contiguous
    reloaded = Image.Exif()
    reloaded.load(photo.exif)
    assert reloaded.get(0x0112, 1) == 1
    assert reloaded.get(0x010F) == "FaceappCam"


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_orientation(tmp_path: Path, orientation: int) -> None:
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:8, :8] = 255  # a white block in the stored top-left corner
    path = tmp_path / "o.jpg"
    Image.fromarray(stored).save(path, "JPEG", quality=100, exif=exif_bytes(orientation))
    photo = read_photo(path)
    expected = upright_by_pillow(stored, orientation)
    assert photo.pixels.shape == expected.shape
    assert np.abs(photo.pixels.astype(int) - expected).mean() < 3
    assert photo.source_format == "JPEG"


def test_orientation_reset_keeps_every_other_exif_byte(tmp_path: Path) -> None:
    exif = exif_bytes(6, t305="faceapp-test", t33432="(c) someone")
    path = tmp_path / "p.jpg"
    Image.fromarray(random_rgb()).save(path, "JPEG", exif=exif)
    photo = read_photo(path)
    assert photo.exif is not None and len(photo.exif) == len(exif)
    differing = [i for i, (a, b) in enumerate(zip(photo.exif, exif, strict=True)) if a != b]
    assert len(differing) == 1  # only the orientation value's low byte changed


# --- bit depths, gray, alpha, palettes, CMYK ---------------------------------------------------


@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_png_keeps_every_bit(tmp_path: Path, channels: int) -> None:
    samples = RNG.integers(0, 65536, (7, 11, channels), dtype=np.uint16)
    samples[0, 0, 0], samples[0, 1, 0] = 1, 65535  # the lowest and highest bits are used
    path = tmp_path / "deep.png"
    path.write_bytes(png16_bytes(samples))
    photo = read_photo(path)
    assert photo.bit_depth == 16 and photo.pixels.dtype == np.uint16
    np.testing.assert_array_equal(photo.pixels, samples[:, :, :3])
    if channels == 4:
        assert photo.alpha is not None and photo.alpha.dtype == np.uint16
        np.testing.assert_array_equal(photo.alpha, samples[:, :, 3])
    else:
        assert photo.alpha is None
    assert not photo.grayscale


@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_tiff_keeps_every_bit_and_its_icc(tmp_path: Path, channels: int) -> None:
    samples = RNG.integers(0, 65536, (7, 11, channels), dtype=np.uint16)
    path = tmp_path / "deep.tif"
    path.write_bytes(tiff16_bytes(samples, icc=srgb_icc()))
    photo = read_photo(path)
    np.testing.assert_array_equal(photo.pixels, samples[:, :, :3])
    assert (photo.alpha is not None) == (channels == 4)
    assert photo.icc_profile == srgb_icc()
    assert photo.source_format == "TIFF"


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16bit_gray(tmp_path: Path, fmt: str) -> None:
    gray = RNG.integers(0, 65536, (6, 10), dtype=np.uint16)
    path = save_pillow(Image.fromarray(gray), tmp_path / f"g.{fmt.lower()}", fmt)
    photo = read_photo(path)
    assert photo.grayscale and photo.pixels.dtype == np.uint16
    for channel in range(3):
        np.testing.assert_array_equal(photo.pixels[:, :, channel], gray)


def test_16bit_gray_alpha_png(tmp_path: Path) -> None:
    samples = RNG.integers(0, 65536, (3, 4, 2), dtype=np.uint16)
    rows = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(3))
    header = struct.pack(">IIBBBBB", 4, 3, 16, 4, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
    data += png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")
    path = tmp_path / "ga16.png"
    path.write_bytes(data)
    photo = read_photo(path)
    assert photo.grayscale
    np.testing.assert_array_equal(photo.pixels[:, :, 1], samples[:, :, 0])
    np.testing.assert_array_equal(photo.alpha, samples[:, :, 1])


@pytest.mark.parametrize("mode", ["L", "LA", "1"])
def test_8bit_gray_modes(tmp_path: Path, mode: str) -> None:
    image = Image.fromarray(random_rgb(8, 8)).convert(mode)
    photo = read_photo(save_pillow(image, tmp_path / "g.png", "PNG"))
    assert photo.grayscale and photo.pixels.dtype == np.uint8
    gray = np.asarray(image.convert("L"))
    np.testing.assert_array_equal(photo.pixels, np.repeat(gray[:, :, None], 3, axis=2))
    assert (photo.alpha is not None) == (mode == "LA")


def test_rgba_png_keeps_alpha(tmp_path: Path) -> None:
    rgba = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    photo = read_photo(save_pillow(Image.fromarray(rgba), tmp_path / "a.png", "PNG"))
    np.testing.assert_array_equal(photo.pixels, rgba[:, :, :3])
    np.testing.assert_array_equal(photo.alpha, rgba[:, :, 3])
    assert photo.alpha.flags.c_contiguous and photo.pixels.flags.c_contiguous


def test_palette_with_transparency(tmp_path: Path) -> None:
    image = Image.new("P", (4, 2))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((0, 0), 1)
    path = save_pillow(image, tmp_path / "p.png", "PNG", transparency=0)
    photo = read_photo(path)
    assert photo.alpha is not None
    assert photo.alpha[0, 0] == 255 and photo.alpha[1, 3] == 0
    assert tuple(photo.pixels[0, 0]) == (0, 0, 255) and tuple(photo.pixels[1, 1]) == (255, 0, 0)
    assert not photo.grayscale


def test_gray_palette_is_grayscale(tmp_path: Path) -> None:
    image = Image.fromarray(random_rgb(6, 6)).convert("L").convert("P")
    photo = read_photo(save_pillow(image, tmp_path / "gp.gif", "GIF"))
    assert photo.grayscale and photo.alpha is None
    assert photo.source_format == "GIF"


def test_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (6, 4), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    photo = read_photo(path)
    assert photo.size == (6, 4)
    assert tuple(photo.pixels[0, 0]) == (255, 0, 0)


def test_cmyk_adobe_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = save_pillow(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), tmp_path / "c.jpg", "JPEG")
    assert b"Adobe" in path.read_bytes()  # stored inverted, as Photoshop does
    photo = read_photo(path)
    assert photo.pixels.shape == (8, 8, 3)
    assert np.abs(photo.pixels.astype(int) - [255, 0, 0]).max() <= 3
    assert photo.icc_profile is None


def test_cmyk_profile_is_not_handed_out(tmp_path: Path) -> None:
    fake_cmyk_profile = b"\x00" * 16 + b"CMYK" + b"\x00" * 108
    image = Image.new("CMYK", (4, 4), (0, 0, 0, 128))
    path = save_pillow(image, tmp_path / "c.jpg", "JPEG", icc_profile=fake_cmyk_profile)
    photo = read_photo(path)
    assert photo.icc_profile is None
    assert abs(int(photo.pixels[0, 0, 0]) - 127) <= 3


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_icc_profile_is_read(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"icc.{fmt.lower()}"
    save_pillow(Image.fromarray(random_rgb()), path, fmt, icc_profile=srgb_icc())
    assert read_photo(path).icc_profile == srgb_icc()


FAKE_GRAY_PROFILE = b"\x00" * 16 + b"GRAY" + b"\x00" * 108


@pytest.mark.parametrize(("mode", "kept"), [("L", True), ("RGB", False)])
def test_gray_profile_only_for_gray_photos(tmp_path: Path, mode: str, kept: bool) -> None:
    image = Image.new(mode, (4, 4))
    path = save_pillow(image, tmp_path / "g.png", "PNG", icc_profile=FAKE_GRAY_PROFILE)
    assert (read_photo(path).icc_profile == FAKE_GRAY_PROFILE) == kept


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "TIFF", "PNG"])
def test_lossless_formats_exact(tmp_path: Path, fmt: str) -> None:
    rgb = random_rgb(9, 13)
    path = tmp_path / f"x.{fmt.lower()}"
    save_pillow(Image.fromarray(rgb), path, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    photo = read_photo(path)
    np.testing.assert_array_equal(photo.pixels, rgb)
    assert photo.source_format == fmt and photo.size == (13, 9) and photo.path == path


def test_heic_when_pillow_heif_is_installed(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.heic"
    try:
        Image.new("RGB", (64, 48), (200, 30, 30)).save(path, "HEIF", quality=90)
    except (KeyError, OSError, RuntimeError) as exc:
        pytest.skip(f"this libheif has no HEVC encoder: {exc}")
    photo = read_photo(path)
    assert photo.source_format == "HEIF" and photo.size == (64, 48)
    assert np.abs(photo.pixels.astype(int) - [200, 30, 30]).mean() < 8


def test_avif_orientation(tmp_path: Path) -> None:
    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    path = tmp_path / "photo.avif"
    Image.new("RGB", (64, 32), (30, 30, 200)).save(path, "AVIF", exif=exif_bytes(6))
    photo = read_photo(path)
    assert photo.source_format == "AVIF" and photo.size == (32, 64)


def test_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "répertoire"
    folder.mkdir()
    path = save_pillow(Image.fromarray(random_rgb()), folder / "grand-mère_写真.jpg", "JPEG")
    photo = read_photo(str(path))
    assert photo.size == (9, 6) and photo.path == path


# --- refusals ----------------------------------------------------------------------------------


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty.jpg": (lambda: b"", "the file is empty"),
    "notes.jpg": (lambda: b"Shopping list: milk, bread\n" * 20, "a text file"),
    "noise.png": (lambda: bytes(RNG.integers(0, 256, 3000, dtype=np.uint8)), "not an image"),
    "cut.jpg": (lambda: jpeg_bytes()[:1500], "damaged or incomplete"),
    "cut.png": (lambda: png_bytes()[:2000], "damaged or incomplete"),
    "cut16.png": (lambda: png16_bytes(random_rgb(64, 64, np.uint16))[:3000], "damaged"),
    "header.png": (lambda: png_bytes()[:20], "damaged or incomplete"),
    "doc.pdf": (lambda: b"%PDF-1.7\n" + bytes(200), "PDF document"),
    "photo.jxl": (lambda: b"\xff\x0a" + bytes(100), "JPEG XL"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_unreadable_files_are_explained(tmp_path: Path, name: str) -> None:
    make, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(ImageReadError) as caught:
        read_photo(path)
    assert str(caught.value).startswith(f"Cannot open '{name}': ")
    assert words in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"Cannot open 'gone\.jpg': the file does not exist"):
        read_photo(tmp_path / "gone.jpg")


def test_folder(tmp_path: Path) -> None:
    (tmp_path / "album.jpg").mkdir()
    with pytest.raises(ImageReadError, match=r"'album\.jpg': it is a folder"):
        read_photo(tmp_path / "album.jpg")


def test_float_tiff_is_unsupported(tmp_path: Path) -> None:
    image = Image.fromarray(np.zeros((4, 4), np.float32))
    path = save_pillow(image, tmp_path / "f.tif", "TIFF")
    with pytest.raises(ImageReadError, match="floating point"):
        read_photo(path)


def test_camera_raw_preview_is_refused(tmp_path: Path) -> None:
    image = Image.fromarray(random_rgb())
    path = save_pillow(image, tmp_path / "x.dng", "TIFF", tiffinfo={254: 1})
    with pytest.raises(ImageReadError, match="RAW"):
        read_photo(path)


def test_heic_without_pillow_heif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_io, "_formats", lambda: ("JPEG", "PNG"))
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100))
    with pytest.raises(ImageReadError, match="pillow-heif"):
        read_photo(path)


def crafted_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its (tiny) data does not hold."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 100))
    return b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b"")


def test_huge_header_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(crafted_png_header(40000, 40000))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImageReadError) as caught:
            read_photo(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2
    assert peak < 20_000_000
    message = str(caught.value)
    assert "'bomb.png'" in message and "40000 × 40000 pixels (1600 megapixels)" in message
    assert f"up to {DEFAULT_MAX_PIXELS // 1_000_000} megapixels" in message


def test_max_pixels_is_per_call(tmp_path: Path) -> None:
    path = save_pillow(Image.fromarray(random_rgb(100, 100)), tmp_path / "x.png", "PNG")
    with pytest.raises(ImageReadError, match=r"100 × 100 pixels \(0\.0 megapixels\)"):
        read_photo(path, max_pixels=5000)
    assert read_photo(path, max_pixels=10_000).size == (100, 100)


def test_pillows_own_limit_neither_blocks_nor_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    path = save_pillow(Image.fromarray(random_rgb(60, 60)), tmp_path / "x.png", "PNG")
    assert read_photo(path).size == (60, 60)
    assert Image.MAX_IMAGE_PIXELS == 100


# --- arrays and float conversion ---------------------------------------------------------------


ARRAY_SHAPES = [
    ((4, 5), True, False),
    ((4, 5, 1), True, False),
    ((4, 5, 3), False, False),
    ((4, 5, 4), False, True),
]


@pytest.mark.parametrize(("shape", "gray", "has_alpha"), ARRAY_SHAPES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_photo_from_array_shapes(shape: tuple, gray: bool, has_alpha: bool, dtype: type) -> None:
    array = RNG.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    photo = photo_from_array(array)
    assert photo.pixels.shape == (4, 5, 3) and photo.pixels.dtype == dtype
    assert photo.grayscale == gray and (photo.alpha is not None) == has_alpha
    assert photo.source_format is None and photo.path is None and photo.exif is None
    expected = array if array.ndim == 2 else array[:, :, 0]
    np.testing.assert_array_equal(photo.pixels[:, :, 0], expected)
    array[...] = 0
    assert photo.pixels.any()  # a copy: the caller's array can change afterwards


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_photo_from_float_array_is_16bit(dtype: type) -> None:
    array = np.linspace(0, 1, 24, dtype=dtype).reshape(2, 4, 3)
    photo = photo_from_array(array)
    assert photo.pixels.dtype == np.uint16
    assert photo.pixels[0, 0, 0] == 0 and photo.pixels[-1, -1, -1] == 65535


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((4, 4, 3), np.int64), "int64"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((2, 4, 4, 3), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        (np.full((2, 2, 3), 2.0), "in [0, 1]"),
        (np.full((2, 2, 3), np.nan), "NaN"),
        ([[1, 2], [3, 4]], "numpy array"),
    ],
)
def test_photo_from_array_refusals(array: object, words: str) -> None:
    with pytest.raises(ImageReadError, match=words.replace("[", r"\[").replace("]", r"\]")):
        photo_from_array(array)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_float_roundtrip_is_exact(dtype: type) -> None:
    every_value = np.arange(np.iinfo(dtype).max + 1, dtype=dtype)
    np.testing.assert_array_equal(from_float(to_float(every_value), dtype), every_value)
    assert to_float(every_value).dtype == np.float32


def test_from_float_rounds_and_clips() -> None:
    values = np.array([-0.5, 0.0, 0.5 / 255 - 1e-4, 0.5 / 255 + 1e-4, 1.0, 7.0, np.nan])
    np.testing.assert_array_equal(from_float(values, np.uint8), [0, 0, 0, 1, 255, 255, 0])


# --- real photos -------------------------------------------------------------------------------

REAL_PHOTOS = [
    ("old_photos/old__a.png", (298, 450), True, False),
    ("old_photos/old_w_scratch__d.png", (400, 256), True, False),
    ("old_photos/old__b.png", (644, 900), False, False),
    ("misc_faces/spandrel__einstein.png", (328, 439), False, True),
    ("misc_faces/deepface__img1.jpg", (1382, 1868), False, False),
    ("group_photos/deepface__couple.jpg", (2280, 1588), False, False),
]


@pytest.mark.shared
@pytest.mark.parametrize(("name", "size", "has_alpha", "gray"), REAL_PHOTOS)
def test_real_photos(name: str, size: tuple[int, int], has_alpha: bool, gray: bool) -> None:
    photo = read_photo(require_shared("photos", *name.split("/")))
    assert photo.size == size and photo.bit_depth == 8
    assert (photo.alpha is not None) == has_alpha and photo.grayscale == gray
    assert photo.pixels.shape == (size[1], size[0], 3)


@pytest.mark.shared
def test_real_photo_metadata() -> None:
    photo = read_photo(require_shared("photos", "group_photos", "deepface__couple.jpg"))
    assert photo.icc_profile is not None and photo.icc_profile[16:20] == b"RGB "
    assert photo.exif is not None and photo.exif.startswith(b"Exif\x00\x00")
