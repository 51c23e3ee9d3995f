"""Reading photos into numpy arrays: every common format, EXIF orientation, 16-bit, alpha, ICC.

Pillow decodes everything it holds without loss; 16-bit files with colour or alpha (which Pillow
would truncate to 8 bits) are decoded by OpenCV from the file's bytes instead.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from faceapp.core.errors import ImageReadError

DEFAULT_MAX_PIXELS = 250_000_000

_PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "DIB", "GIF", "AVIF", "HEIF")
_FORMAT_NAMES = {"MPO": "JPEG", "DIB": "BMP"}  # Pillow's names for JPEG and BMP variants
_ORIENTATION = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_DAMAGED = "the file is damaged or incomplete (it may not have been fully copied or downloaded)"
_PILLOW_LIMIT_LOCK = threading.Lock()


@dataclass
class Photo:
    """A decoded photo, upright, with what is needed to write it back faithfully."""

    pixels: np.ndarray  # H x W x 3 RGB, uint8 or uint16, C-contiguous
    alpha: np.ndarray | None  # H x W, same dtype as pixels
    grayscale: bool  # the source was grayscale: pixels hold 3 equal channels
    source_format: str | None  # "JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "HEIF", "AVIF"...
    exif: bytes | None  # b"Exif\0\0" + TIFF-structured EXIF, orientation reset to 1
    icc_profile: bytes | None  # an RGB or gray ICC profile
    path: Path | None = None

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def restored_with(self) -> str | None:
        """faceapp's marker when faceapp already restored this photo (see provenance)."""
        from faceapp.core.photo.provenance import restored_note

        return restored_note(self)


# --- float conversion --------------------------------------------------------------------------


def to_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 or uint16 samples as float32 in [0, 1]."""
    scale = _dtype_max(pixels.dtype)
    return pixels.astype(np.float32) * np.float32(1.0 / scale)


_BAND_SAMPLES = 1 << 18  # float temporaries of about 1 MB, whatever the photo's size


def from_float(x: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """Float samples in [0, 1] to uint8 or uint16: clipped, rounded to nearest, NaN -> 0.

    Converted in bands of rows through one small buffer: no full-size float copy is made (for
    a 24-megapixel photo at x2 it would take 1.1 GB), and the bands stay in the CPU's cache.
    """
    out = np.empty(np.shape(x), dtype)
    if out.ndim == 0 or out.size == 0:
        return _from_float_band(np.asarray(x), out, np.empty(out.shape, np.float32))
    rows = max(1, _BAND_SAMPLES // max(1, out[0].size))
    buffer = np.empty((min(rows, len(out)), *out.shape[1:]), np.float32)
    for start in range(0, len(out), rows):
        band = x[start : start + rows]
        _from_float_band(band, out[start : start + rows], buffer[: len(band)])
    return out


def _from_float_band(x: np.ndarray, out: np.ndarray, y: np.ndarray) -> np.ndarray:
    np.fmax(x, 0.0, out=y, casting="same_kind")  # fmax, unlike clip, also turns NaN into 0
    np.fmin(y, 1.0, out=y)
    y *= np.float32(_dtype_max(out.dtype))
    np.rint(y, out=y)
    out[...] = y
    return out


def _dtype_max(dtype: np.dtype) -> int:
    if dtype == np.uint8:
        return 255
    if dtype == np.uint16:
        return 65535
    raise ValueError(f"expected uint8 or uint16 samples, got {dtype}")


# --- arrays (Python API) -----------------------------------------------------------------------


def photo_from_array(array: np.ndarray) -> Photo:
    """A Photo from H x W (gray), H x W x 1, H x W x 3 (RGB) or H x W x 4 (RGBA) samples.

    uint8 and uint16 are kept as they are; floats must lie in [0, 1] and become uint16.
    """
    if not isinstance(array, np.ndarray):
        raise ImageReadError(f"Expected a numpy array, got {type(array).__name__}.")
    samples = _array_samples(array)
    colour, alpha = _split_channels(samples)
    return Photo(
        pixels=np.ascontiguousarray(colour),
        alpha=None if alpha is None else np.ascontiguousarray(alpha),
        grayscale=samples.shape[2] == 1,
        source_format=None,
        exif=None,
        icc_profile=None,
    )


def _array_samples(array: np.ndarray) -> np.ndarray:
    """H x W x C (C = 1, 3 or 4) uint8/uint16 copy of an array given through the Python API."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageReadError(
            f"Expected an H x W, H x W x 1, H x W x 3 (RGB) or H x W x 4 (RGBA) array, "
            f"got shape {array.shape}."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageReadError(f"The array is empty (shape {array.shape}).")
    if array.dtype in (np.uint8, np.uint16):
        return array.copy()
    if np.issubdtype(array.dtype, np.floating):
        return from_float(_checked_float(array), np.uint16)
    raise ImageReadError(
        f"Expected uint8, uint16 or float samples in [0, 1], got {array.dtype} "
        "(convert it first, e.g. array.astype(np.uint8))."
    )


def _checked_float(array: np.ndarray) -> np.ndarray:
    if not np.isfinite(array).all():
        raise ImageReadError("The float array holds NaN or infinite values.")
    low, high = float(array.min()), float(array.max())
    tolerance = 1e-3  # processing leaves values a hair outside [0, 1]; those are clipped
    if low < -tolerance or high > 1 + tolerance:
        raise ImageReadError(
            f"Float arrays must hold values in [0, 1]; this one goes from {low:g} to {high:g}."
        )
    return array


# --- files -------------------------------------------------------------------------------------


def read_photo(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Decode a photo file, upright, at its own bit depth. Raises ImageReadError."""
    path = Path(path)
    data = _read_bytes(path)
    name = path.name
    image = _open_image(data, name)
    try:
        _check_size(image, name, max_pixels)
        photo = _decode(image, data, name)
    finally:
        image.close()
    photo.path = path
    return photo


def read_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """A mask image (white = marked) as H x W bool: a pixel is marked above half brightness."""
    photo = read_photo(path)
    return to_float(photo.pixels).mean(axis=2) > 0.5


def _read_bytes(path: Path) -> bytes:
    name = path.name or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"Cannot open '{name}': the file does not exist.") from None
    except IsADirectoryError:
        raise ImageReadError(f"Cannot open '{name}': it is a folder, not a photo.") from None
    except PermissionError:
        if path.is_dir():  # Windows reports reading a folder as a permission error
            raise ImageReadError(f"Cannot open '{name}': it is a folder, not a photo.") from None
        raise ImageReadError(f"Cannot open '{name}': permission denied.") from None
    except OSError as exc:
        raise ImageReadError(f"Cannot open '{name}': {exc.strerror or exc}.") from exc
    if not data:
        raise ImageReadError(f"Cannot open '{name}': the file is empty.")
    return data


def _open_image(data: bytes, name: str) -> Image.Image:
    """Parse the header only (no pixel is decoded yet), restricted to photo formats."""
    formats = _formats()
    try:
        # Pillow's bomb limit is process-wide (about 179 megapixels for an error); faceapp
        # applies its own per-call limit to the header size instead, before any decoding.
        with _PILLOW_LIMIT_LOCK:
            saved_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                return Image.open(io.BytesIO(data), formats=formats)
            finally:
                Image.MAX_IMAGE_PIXELS = saved_limit
    except UnidentifiedImageError:
        raise ImageReadError(f"Cannot open '{name}': {_why_unreadable(data, formats)}.") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageReadError(f"Cannot open '{name}': {_DAMAGED}.") from exc


def _formats() -> tuple[str, ...]:
    """The photo formats this Pillow can open (never EPS and the like, which run programs)."""
    _register_heif()
    Image.init()
    return tuple(name for name in _PHOTO_FORMATS if name in Image.OPEN)


@functools.cache
def _register_heif() -> bool:
    """Register pillow-heif's HEIC opener on first use; it is an optional dependency."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:  # not installed, or a broken native library: HEIC stays unsupported
        return False
    return True


def _check_size(image: Image.Image, name: str, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageReadError(
            f"Cannot open '{name}': it is {width} × {height} pixels "
            f"({_megapixels(width * height)} megapixels); faceapp opens photos up to "
            f"{_megapixels(max_pixels)} megapixels."
        )
    if width == 0 or height == 0:
        raise ImageReadError(f"Cannot open '{name}': the image has no pixels ({width} × {height}).")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f}" if pixels >= 10_000_000 else f"{pixels / 1e6:.1f}"


# --- why a file is not readable ----------------------------------------------------------------

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_OTHER_FORMATS = (
    (b"\xff\x0a", "JPEG XL photos are not supported; convert it to PNG, JPEG or TIFF first"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL photos are not supported; convert it to PNG or JPEG first"),
    (b"%PDF", "it is a PDF document, not a photo"),
    (b"8BPS", "Photoshop files are not supported; export the photo as PNG, JPEG or TIFF"),
)


def _why_unreadable(data: bytes, formats: tuple[str, ...]) -> str:
    """The end of an error message for bytes that Pillow's photo openers all refused."""
    kind = _sniff(data)
    if kind in ("HEIF", "AVIF") and kind not in formats:
        return f"{kind} photos need the optional pillow-heif package (pip install pillow-heif)"
    if kind == "TIFF":
        return "it is a kind of TIFF that faceapp cannot read, or the file is damaged"
    if kind is not None:
        return _DAMAGED
    for signature, reason in _OTHER_FORMATS:
        if data.startswith(signature):
            return reason
    if _looks_like_text(data):
        return "it is a text file, not a photo"
    return "it is not an image file, or its format is not supported"


def _sniff(data: bytes) -> str | None:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        brands = {data[i : i + 4] for i in range(8, min(len(data), 64), 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # only a character cut at the end of the sample
    return True


# --- decoding ----------------------------------------------------------------------------------


def _decode(image: Image.Image, data: bytes, name: str) -> Photo:
    source_format = _FORMAT_NAMES.get(image.format or "", image.format)
    if source_format == "TIFF" and _is_camera_raw(image):
        raise ImageReadError(
            f"Cannot open '{name}': camera RAW files are not supported; "
            "export the photo as TIFF or JPEG first."
        )
    if _is_deep_colour(image, data):
        exif = _header_exif(image)
        orientation = _orientation(exif)
        colour, alpha, grayscale = _decode_with_opencv(data, name, image, orientation)
        icc = image.info.get("icc_profile")
    else:
        colour, alpha, grayscale, icc = _decode_with_pillow(image, name)
        exif = _loaded_exif(image)  # after load: Pillow turns TIFFs upright itself
        orientation = _orientation(exif)
    colour = _apply_orientation(colour, orientation)
    alpha = None if alpha is None else _apply_orientation(alpha, orientation)
    return Photo(
        pixels=np.ascontiguousarray(colour),
        alpha=None if alpha is None else np.ascontiguousarray(alpha),
        grayscale=grayscale,
        source_format=source_format,
        exif=_exif_block(image.info.get("exif"), exif, source_format == "TIFF"),
        icc_profile=_usable_icc(icc, grayscale),
        path=None,
    )


def _is_camera_raw(image: Image.Image) -> bool:
    """DNG and TIFF-based RAW files: Pillow would only see their small preview."""
    tags = getattr(image, "tag_v2", {})
    return 50706 in tags or (int(tags.get(254, 0)) & 1) == 1  # DNGVersion; reduced-size image


def _is_deep_colour(image: Image.Image, data: bytes) -> bool:
    """16-bit with colour or alpha: Pillow would truncate it to 8 bits."""
    if image.format == "PNG":
        return data[12:16] == b"IHDR" and data[24] == 16 and data[25] in (2, 4, 6)
    if image.format == "TIFF":
        bits = image.tag_v2.get(258, (1,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return len(bits) > 1 and max(bits) > 8
    return False


def _decode_with_opencv(
    data: bytes, name: str, image: Image.Image, orientation: int
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    if image.format == "TIFF" and orientation != 1:
        # OpenCV (5.0 at least) turns TIFFs upright despite IMREAD_UNCHANGED: it gets a copy
        # whose tag says 1, and the orientation is applied afterwards, as for every other file.
        data = _reset_orientation_in_place(data) or data
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.size == 0:
        raise ImageReadError(f"Cannot open '{name}': {_DAMAGED}.")
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(
            f"Cannot open '{name}': {array.dtype} samples are not supported "
            "(faceapp reads 8- and 16-bit photos)."
        )
    if array.ndim == 3 and array.shape[2] >= 3:
        array = array[:, :, [2, 1, 0, 3][: array.shape[2]]]  # BGR(A) -> RGB(A)
    grayscale = array.ndim == 2 or array.shape[2] <= 2 or _is_gray_source(image, data)
    return *_split_channels(array), grayscale


def _is_gray_source(image: Image.Image, data: bytes) -> bool:
    """16-bit gray + alpha: OpenCV expands it to 4 channels."""
    if image.format == "PNG":
        return data[25] == 4
    return image.tag_v2.get(262) in (0, 1)  # TIFF PhotometricInterpretation: white/black is zero


def _decode_with_pillow(
    image: Image.Image, name: str
) -> tuple[np.ndarray, np.ndarray | None, bool, bytes | None]:
    try:
        image.load()
        normal, grayscale, icc = _normalise_mode(image, name)
        array = np.asarray(normal)
        if array.dtype != np.uint8:  # I;16 modes: little, big or native byte order
            array = array.astype(np.uint16)
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:  # a GIF frame larger than its header says
        raise ImageReadError(f"Cannot open '{name}': it is too large ({exc}).") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageReadError(f"Cannot open '{name}': {_DAMAGED}.") from exc
    return *_split_channels(array), grayscale, icc


def _split_channels(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """H x W, or H x W x C with C = 1 (L), 2 (LA), 3 (RGB), 4 (RGBA)
    -> (H x W x 3 colour, H x W alpha or None)."""
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2), None
    channels = array.shape[2]
    colour = array[:, :, :3] if channels >= 3 else np.repeat(array[:, :, :1], 3, axis=2)
    alpha = array[:, :, channels - 1] if channels in (2, 4) else None
    return colour, alpha


_GRAY_16 = ("I;16", "I;16L", "I;16B", "I;16N")
_DIRECT = {"L": True, "LA": True, "RGB": False, "RGBA": False}
_CONVERT = {"1": ("L", True), "La": ("LA", True), "RGBa": ("RGBA", False), "RGBX": ("RGB", False)}


def _normalise_mode(image: Image.Image, name: str) -> tuple[Image.Image, bool, bytes | None]:
    """(an image in L, LA, RGB, RGBA or I;16, grayscale, ICC profile for those pixels)."""
    mode, icc = image.mode, image.info.get("icc_profile")
    if mode in ("P", "PA"):
        gray = _gray_palette(image)
        alpha = mode == "PA" or image.has_transparency_data
        return image.convert("RGBA" if alpha else "RGB"), gray, icc
    if mode in _GRAY_16:
        return image, True, icc
    if mode == "I":
        return _int32_as_uint16(image, name), True, icc
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc)
    if mode in _CONVERT:
        target, gray = _CONVERT[mode]
        return image.convert(target), gray, icc
    if mode in ("L", "RGB") and image.has_transparency_data:  # a tRNS colour key
        return image.convert(mode + "A"), mode == "L", icc
    if mode in _DIRECT:
        return image, _DIRECT[mode], icc
    if mode in ("YCbCr", "HSV"):
        return image.convert("RGB"), False, icc
    raise ImageReadError(f"Cannot open '{name}': images in {_mode_words(mode)} are not supported.")


def _mode_words(mode: str) -> str:
    return {"F": "32-bit floating point", "LAB": "the Lab colour space"}.get(mode, f"mode {mode}")


def _gray_palette(image: Image.Image) -> bool:
    """Whether every palette entry the image uses is a shade of gray."""
    palette = np.asarray(image.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)
    indices = np.asarray(image)
    indices = indices[:, :, 0] if indices.ndim == 3 else indices
    used = np.flatnonzero(np.bincount(indices.ravel(), minlength=256))
    colours = palette[used[used < len(palette)]]
    return bool((colours[:, 0] == colours[:, 1]).all() and (colours[:, 1] == colours[:, 2]).all())


def _int32_as_uint16(image: Image.Image, name: str) -> Image.Image:
    array = np.asarray(image)
    if array.size and (array.min() < 0 or array.max() > 65535):
        raise ImageReadError(
            f"Cannot open '{name}': 32-bit integer images are not supported "
            "(faceapp reads 8- and 16-bit photos)."
        )
    return Image.fromarray(array.astype(np.uint16))


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bool, bytes | None]:
    """CMYK through its own ICC profile to sRGB when it has one, else Pillow's plain formula."""
    if icc and _icc_space(icc) == b"CMYK":
        try:
            srgb = ImageCms.createProfile("sRGB")
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
            if rgb is not None:
                return rgb, False, ImageCms.ImageCmsProfile(srgb).tobytes()
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the formula below
    return image.convert("RGB"), False, None


def _icc_space(icc: bytes) -> bytes:
    """The data colour space signature of an ICC profile: b"RGB ", b"GRAY", b"CMYK"..."""
    return icc[16:20] if len(icc) >= 20 else b""


def _usable_icc(icc: bytes | None, grayscale: bool) -> bytes | None:
    """Only profiles that describe the pixels we hand out: RGB, or gray for a gray photo."""
    if not icc:
        return None
    space = _icc_space(icc)
    return icc if space == b"RGB " or (space == b"GRAY" and grayscale) else None


# --- orientation and EXIF ----------------------------------------------------------------------


def _loaded_exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except (OSError, ValueError, TypeError, SyntaxError, struct.error):
        return Image.Exif()  # unreadable EXIF is ignored rather than refusing the photo


def _header_exif(image: Image.Image) -> Image.Exif:
    """EXIF without decoding pixels (Pillow's PNG getexif() would load the whole image)."""
    if image.format == "TIFF":
        return _loaded_exif(image)
    exif = Image.Exif()
    raw = image.info.get("exif")
    if isinstance(raw, bytes):
        try:
            exif.load(raw)
        except (OSError, ValueError, TypeError, SyntaxError, struct.error):
            return Image.Exif()
    return exif


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(_ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """The stored samples turned upright, as the EXIF orientation tag asks (views, no copy)."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return array.swapaxes(0, 1)[:, ::-1]
    if orientation == 7:
        return array.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return array.swapaxes(0, 1)[::-1]
    return array


def _exif_block(raw: object, exif: Image.Exif, from_tiff: bool) -> bytes | None:
    """The file's EXIF as b"Exif\\0\\0" + TIFF data, with the orientation set to 1."""
    if isinstance(raw, bytes) and raw:
        body = raw[len(_EXIF_HEADER) :] if raw.startswith(_EXIF_HEADER) else raw
        patched = _reset_orientation_in_place(body)
        if patched is not None:
            return _EXIF_HEADER + patched
    return _rebuilt_exif(exif, from_tiff)


def _reset_orientation_in_place(tiff: bytes) -> bytes | None:
    """Set IFD0's orientation to 1 in the raw bytes, keeping every offset (maker notes) valid.

    None when the block cannot be parsed.
    """
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    try:
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for index in range(count):
            entry = ifd + 2 + 12 * index
            tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
            if tag == _ORIENTATION and kind == 3 and number == 1:
                patched = bytearray(tiff)
                struct.pack_into(order + "H", patched, entry + 8, 1)
                return bytes(patched)
    except struct.error:
        return None
    return tiff


# IFD0 tags that describe the photo rather than the file's layout; the rest of a TIFF's IFD0
# (strip offsets, sample format...) would be nonsense in another file's EXIF.
_DESCRIPTIVE_TAGS = {270, 271, 272, 282, 283, 296, 305, 306, 315, 33432}
_SUB_IFDS = (0x8769, 0x8825)  # Exif, GPS


def _rebuilt_exif(source: Image.Exif, from_tiff: bool) -> bytes | None:
    """EXIF re-serialised by Pillow, for files without a raw EXIF block (TIFF, PNG text)."""
    try:
        exif = Image.Exif()
        for tag, value in source.items():
            if tag in _DESCRIPTIVE_TAGS or not (from_tiff or tag in _SUB_IFDS):
                exif[tag] = value
        for tag in _SUB_IFDS:
            if tag in source and (sub := source.get_ifd(tag)):
                exif[tag] = sub
        if not exif:
            return None
        exif[_ORIENTATION] = 1
        data = exif.tobytes()
    except (OSError, ValueError, TypeError, SyntaxError, struct.error, KeyError):
        return None  # unreadable EXIF is dropped rather than refusing the photo
    return data if data.startswith(_EXIF_HEADER) else _EXIF_HEADER + data


# What a folder scan picks up; read_photo itself decides by content, not by name.
PHOTO_SUFFIXES = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".webp",
        ".tif",
        ".tiff",
        ".bmp",
        ".gif",
        ".heic",
        ".heif",
        ".avif",
    ]
)


def photos_in(folder: str | os.PathLike[str]) -> list[Path]:
    """The photo files directly inside a folder, sorted by name (hidden files skipped)."""
    entries = sorted(Path(folder).iterdir(), key=lambda p: p.name.lower())
    return [p for p in entries if p.suffix.lower() in PHOTO_SUFFIXES and not p.name.startswith(".")]
