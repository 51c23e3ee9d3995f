"""Writing photos: PNG, JPEG, WebP, TIFF at 8 or 16 bits, with EXIF and ICC, atomically.

A file is encoded into a hidden temporary file beside its target, synced to disk, then moved
into place: a crash, a full disk or an encoder error never leaves a half-written photo, and an
existing file is never replaced unless overwriting was asked for.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import os
import re
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, TiffImagePlugin, TiffTags

from faceapp.core.errors import ImageWriteError
from faceapp.core.fsync import sync_folder
from faceapp.core.photo.provenance import with_software
from faceapp.core.photo.reading import Photo, from_float, to_float

FORMATS = ("auto", "png", "jpg", "webp", "tiff")
_ALIASES = {"jpeg": "jpg", "tif": "tiff"}
_EXTENSIONS = {
    "png": (".png",),
    "jpg": (".jpg", ".jpeg", ".jpe"),
    "webp": (".webp",),
    "tiff": (".tif", ".tiff"),
}
_WRITABLE_SOURCES = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "TIFF": "tiff"}
_EXIF_HEADER = b"Exif\x00\x00"
_JPEG_MAX_EXIF = 65533  # one APP1 segment
_WEBP_MAX_SIDE = 16383
_JPEG_MAX_SIDE = 65535
_RESTORED_COUNTER = re.compile(r"^(?P<base>.*_restored)-(?P<n>\d+)$")

Writer = Callable[[BinaryIO], object]


@dataclass
class SaveOptions:
    format: str = "auto"  # auto|png|jpg|webp|tiff; auto: the source's format when writable
    quality: int = 95  # JPEG and WebP, 1..100
    keep_metadata: bool = True  # EXIF (orientation already reset), ICC profile, file dates
    overwrite: bool = False
    software: str | None = None  # provenance.marker(...): recorded even without metadata

    def __post_init__(self) -> None:
        self.format = _ALIASES.get(self.format.lower(), self.format.lower())
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be between 1 and 100, not {self.quality}")


# --- names -------------------------------------------------------------------------------------


def resolve_format(fmt: str, source_format: str | None) -> str:
    """The concrete format (png|jpg|webp|tiff) for an option value and a Photo.source_format.

    "auto" keeps the source's format when faceapp writes it (BMP, GIF, HEIF -> PNG) and gives
    PNG for arrays.
    """
    fmt = _ALIASES.get(fmt.lower(), fmt.lower())
    if fmt == "auto":
        return _WRITABLE_SOURCES.get((source_format or "").upper(), "png")
    if fmt not in _EXTENSIONS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


def output_path_for(input_path: Path, out_dir: Path | None, fmt: str, overwrite: bool) -> Path:
    """NAME_restored.EXT next to the input (or in out_dir); NAME_restored-2.EXT, -3... when
    taken, unless overwrite. fmt is a concrete format (see resolve_format)."""
    input_path = Path(input_path)
    fmt = resolve_format(fmt, None)
    folder = Path(out_dir) if out_dir is not None else input_path.parent
    target = folder / f"{input_path.stem}_restored{_extension(input_path, fmt)}"
    _refuse_source(target, input_path)
    if overwrite:
        return target
    return _first_free(target)


def _extension(input_path: Path, fmt: str) -> str:
    """The input's own extension when it names the same format (.JPG, .jpeg, .tiff stay)."""
    suffix = input_path.suffix
    return suffix if suffix.lower() in _EXTENSIONS[fmt] else _EXTENSIONS[fmt][0]


def _first_free(target: Path) -> Path:
    candidate, number = target, 2
    while os.path.lexists(candidate):
        candidate, number = _numbered(target, number), number + 1
    return candidate


def _numbered(target: Path, number: int) -> Path:
    match = _RESTORED_COUNTER.match(target.stem)
    base = match["base"] if match else target.stem
    return target.with_name(f"{base}-{number}{target.suffix}")


def _refuse_source(target: Path, *sources: Path | None) -> None:
    for source in sources:
        if source is not None and _same_file(target, Path(source)):
            raise ImageWriteError(
                f"Cannot save '{target.name}': it is the original photo, which faceapp never "
                "overwrites. Choose another name or folder."
            )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare the names
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


# --- saving ------------------------------------------------------------------------------------


def save_photo(photo: Photo, path: Path, options: SaveOptions, source: Path | None = None) -> Path:
    """Write photo to path and return the path written.

    Without options.overwrite an existing file is never replaced: when path is taken (even by
    another program while encoding) the next free NAME-2, NAME-3... is used. With
    keep_metadata, the EXIF, the ICC profile and (when source is given) the source's
    modification time are carried over. Raises ImageWriteError.
    """
    path = Path(path)
    fmt = _format_for(path, options, photo)
    _refuse_source(path, source, photo.path)
    _check_folder(path)
    writer = _writer(photo, fmt, options, path.name)
    times = _source_times(source) if options.keep_metadata else None
    return _atomic_write(path, writer, options.overwrite, times)


def _format_for(path: Path, options: SaveOptions, photo: Photo) -> str:
    by_suffix = next((f for f, exts in _EXTENSIONS.items() if path.suffix.lower() in exts), None)
    if options.format == "auto":
        return by_suffix or resolve_format("auto", photo.source_format)
    if by_suffix is not None and by_suffix != options.format:
        raise ImageWriteError(
            f"Cannot save '{path.name}': its extension does not match the chosen format "
            f"({options.format.upper()})."
        )
    return options.format


def _check_folder(path: Path) -> None:
    folder = path.parent
    if not folder.exists():
        raise ImageWriteError(f"Cannot save '{path.name}': the folder '{folder}' does not exist.")
    if not folder.is_dir():
        raise ImageWriteError(f"Cannot save '{path.name}': '{folder}' is not a folder.")


def _source_times(source: Path | None) -> tuple[int, int] | None:
    if source is None:
        return None
    try:
        stat = os.stat(source)
    except OSError:
        return None  # the dates are a courtesy: a vanished source does not stop the save
    return stat.st_atime_ns, stat.st_mtime_ns


# --- atomic file replacement -------------------------------------------------------------------


def _atomic_write(
    path: Path, writer: Writer, overwrite: bool, times: tuple[int, int] | None
) -> Path:
    folder = path.parent
    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{path.stem[:100]}.faceapp-", suffix=".tmp", dir=folder
        )
    except OSError as exc:
        raise _write_error(path, exc) from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            writer(stream)
            stream.flush()
            os.fsync(stream.fileno())
        _set_permissions(temp, path if overwrite else None)
        if times is not None:
            os.utime(temp, ns=times)
        written = _move_into_place(temp, path, overwrite)
        sync_folder(folder)
        return written
    except OSError as exc:
        raise _write_error(path, exc) from exc
    except (ValueError, TypeError, RuntimeError, cv2.error) as exc:  # an encoder refusing the data
        raise ImageWriteError(f"Cannot save '{path.name}': {exc}") from exc
    finally:
        temp.unlink(missing_ok=True)  # after a hard-link commit the temp name is a spare link


def _move_into_place(temp: Path, path: Path, overwrite: bool) -> Path:
    if overwrite:
        os.replace(temp, path)
        return path
    target, number = path, 2
    while True:
        try:
            _link_no_clobber(temp, target)
            return target
        except FileExistsError:
            target, number = _numbered(path, number), number + 1


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def _link_no_clobber(temp: Path, target: Path) -> None:
    """Give temp the name target, failing with FileExistsError rather than replacing a file."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # No hard links here (FAT, some network shares): check then rename, a tiny race left.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from exc
        os.rename(temp, target)


def _set_permissions(temp: Path, replaced: Path | None) -> None:
    """mkstemp creates 0600 files: give the result the mode a normal new file would have."""
    if os.name != "posix":
        return
    mode = 0o666 & ~_UMASK
    if replaced is not None:
        with contextlib.suppress(OSError):
            mode = os.stat(replaced).st_mode & 0o7777
    os.chmod(temp, mode)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # read once at import: os.umask cannot be read without setting it


def _write_error(path: Path, exc: OSError) -> ImageWriteError:
    folder = path.parent
    name = path.name
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ImageWriteError(f"Cannot save '{name}': the disk holding '{folder}' is full.")
    if exc.errno == errno.EROFS:
        return ImageWriteError(f"Cannot save '{name}': the folder '{folder}' is read-only.")
    if isinstance(exc, PermissionError):
        return ImageWriteError(
            f"Cannot save '{name}': faceapp may not write in the folder '{folder}' "
            "(permission denied)."
        )
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return ImageWriteError(f"Cannot save '{name}': the folder '{folder}' does not exist.")
    return ImageWriteError(f"Cannot save '{name}' in '{folder}': {exc.strerror or exc}.")


# --- sample preparation ------------------------------------------------------------------------


def _samples(photo: Photo, fmt: str) -> np.ndarray:
    """H x W x C samples as the file will hold them: C = 1 (gray), 2 (gray + alpha), 3 or 4."""
    colour = _gray_channel(photo.pixels) if photo.grayscale else photo.pixels
    if fmt == "webp" and colour.shape[2] == 1:  # WebP has no gray: keep the luma in RGB
        colour = np.repeat(colour, 3, axis=2)
    alpha = photo.alpha
    if alpha is not None and fmt == "jpg":
        colour, alpha = _flatten_on_white(colour, alpha), None
    if alpha is not None:
        colour = np.concatenate([colour, alpha[:, :, None].astype(colour.dtype)], axis=2)
    if fmt in ("jpg", "webp") and colour.dtype == np.uint16:
        colour = from_float(to_float(colour), np.uint8)
    if colour.dtype == np.uint16 and colour.shape[2] == 2:
        # Neither OpenCV's PNG nor most TIFF readers handle 16-bit gray + alpha: store RGBA.
        colour = np.concatenate([np.repeat(colour[:, :, :1], 3, axis=2), colour[:, :, 1:]], 2)
    return colour


def _gray_channel(pixels: np.ndarray) -> np.ndarray:
    """H x W x 1: the channel itself when all three agree, else Rec. 601 luma (as Pillow's L)."""
    red, green, blue = pixels[:, :, 0], pixels[:, :, 1], pixels[:, :, 2]
    if np.array_equal(red, green) and np.array_equal(green, blue):
        return pixels[:, :, :1]
    luma = red * np.float32(0.299) + green * np.float32(0.587) + blue * np.float32(0.114)
    top = np.float32(np.iinfo(pixels.dtype).max)
    return np.clip(np.rint(luma), 0, top).astype(pixels.dtype)[:, :, None]


def _flatten_on_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    weight = to_float(alpha)[:, :, None]
    return from_float(to_float(colour) * weight + (1.0 - weight), colour.dtype)


def _metadata(photo: Photo, samples: np.ndarray, keep: bool) -> tuple[bytes | None, bytes | None]:
    """(EXIF as b"Exif\\0\\0" + TIFF data, ICC profile) fit for the samples, or Nones."""
    if not keep:
        return None, None
    gray = samples.shape[2] <= 2
    icc = photo.icc_profile
    space = icc[16:20] if icc else b""
    fits = (space == b"GRAY") if gray else (space == b"RGB ")
    return photo.exif or None, icc if fits else None


# --- encoders ----------------------------------------------------------------------------------


def _writer(photo: Photo, fmt: str, options: SaveOptions, name: str) -> Writer:
    samples = _samples(photo, fmt)
    _check_dimensions(samples, fmt, name)
    exif, icc = _metadata(photo, samples, options.keep_metadata)
    text = {}
    if options.software:
        exif, text = with_software(exif, options.software), {"Software": options.software}
    if fmt == "tiff":
        return _bytes_writer(lambda: _tiff(samples, exif, icc))
    if samples.dtype == np.uint16:
        return _bytes_writer(lambda: _png16(samples, exif, icc, text))
    return _pillow_writer(samples, fmt, options.quality, exif, icc, text)


def _check_dimensions(samples: np.ndarray, fmt: str, name: str) -> None:
    limit = {"webp": _WEBP_MAX_SIDE, "jpg": _JPEG_MAX_SIDE}.get(fmt)
    height, width = samples.shape[:2]
    if limit is not None and max(width, height) > limit:
        raise ImageWriteError(
            f"Cannot save '{name}': {fmt.upper()} files hold at most {limit} pixels a side and "
            f"this photo is {width} × {height}; choose PNG or TIFF."
        )


def _bytes_writer(encode: Callable[[], bytes]) -> Writer:
    return lambda stream: stream.write(encode())


def _pillow_writer(
    samples: np.ndarray,
    fmt: str,
    quality: int,
    exif: bytes | None,
    icc: bytes | None,
    text: dict[str, str] | None = None,
) -> Writer:
    image = Image.fromarray(samples[:, :, 0] if samples.shape[2] == 1 else samples)
    params: dict[str, object] = {}
    if icc:
        params["icc_profile"] = icc
    if fmt == "jpg":
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2)
        if exif and len(exif) <= _JPEG_MAX_EXIF:  # a larger block cannot go in a JPEG
            params["exif"] = exif
    elif fmt == "webp":
        params.update(quality=quality, method=4)
        if exif:  # the WebP EXIF chunk holds the TIFF data without the JPEG-style header
            params["exif"] = exif.removeprefix(_EXIF_HEADER)
    else:
        if exif:
            params["exif"] = exif
        if text:
            params["pnginfo"] = _png_text(text)
    pillow_format = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt]
    return lambda stream: image.save(stream, format=pillow_format, **params)


def _png_text(text: dict[str, str]) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    return info


def _png16(
    samples: np.ndarray, exif: bytes | None, icc: bytes | None, text: dict[str, str] | None = None
) -> bytes:
    """16-bit PNG by OpenCV (Pillow cannot hold 16-bit colour), metadata chunks added here."""
    channels = samples.shape[2]
    bgr = samples[:, :, 0] if channels == 1 else samples[:, :, [2, 1, 0, 3][:channels]]
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(bgr), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise ValueError("the PNG encoder failed")
    return _insert_png_chunks(encoded.tobytes(), exif, icc, text)


def _insert_png_chunks(
    png: bytes, exif: bytes | None, icc: bytes | None, text: dict[str, str] | None = None
) -> bytes:
    """iCCP, eXIf and tEXt right after IHDR (the first two must come before the image data)."""
    end_of_ihdr = 8 + 4 + 4 + 13 + 4  # signature, length, type, IHDR body, CRC
    if png[12:16] != b"IHDR":
        raise ValueError("the PNG encoder wrote an unexpected file")
    chunks = b""
    if icc:
        chunks += _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        chunks += _png_chunk(b"eXIf", exif.removeprefix(_EXIF_HEADER))
    for key, value in (text or {}).items():
        chunks += _png_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    return png[:end_of_ihdr] + chunks + png[end_of_ihdr:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# --- TIFF -------------------------------------------------------------------------------------

# Tags of the image's own layout: EXIF entries with these numbers are not copied into IFD0.
_LAYOUT_TAGS = {254, 256, 257, 258, 259, 262, 273, 274, 277, 278, 279, 284, 317, 338, 339}
_STRIP_BYTES = 1 << 20


def _tiff(samples: np.ndarray, exif: bytes | None, icc: bytes | None) -> bytes:
    """A baseline 8- or 16-bit TIFF (deflate, horizontal predictor) with ICC and EXIF.

    Pillow cannot hold 16-bit colour, OpenCV writes no metadata, and Pillow's compressed (libtiff)
    TIFF writer refuses an EXIF sub-IFD: the file is laid out here, and Pillow's tag directory
    writer serialises the tags (including the EXIF and GPS sub-IFDs).
    """
    height, width, channels = samples.shape
    depth = samples.dtype.itemsize
    rows_per_strip = max(1, _STRIP_BYTES // (width * channels * depth))
    strips = _deflated_strips(samples, rows_per_strip)
    sizes = [len(strip) for strip in strips]
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        _copy_exif_tags(ifd, exif)
    ifd[256], ifd[257] = width, height
    ifd[258] = (8 * depth,) * channels
    ifd[259] = 8  # Adobe deflate
    ifd[262] = 2 if channels >= 3 else 1  # RGB or black-is-zero
    ifd[274] = 1  # the samples are upright
    ifd[277] = channels
    ifd[278] = rows_per_strip
    ifd[273] = tuple(itertools.accumulate(sizes[:-1], initial=0))  # from the data start
    ifd[279] = tuple(sizes)
    ifd[284] = 1  # interleaved samples
    ifd[317] = 2  # horizontal differencing
    ifd[339] = (1,) * channels  # unsigned integers
    if channels in (2, 4):
        ifd[338] = 2  # unassociated (straight) alpha
    if icc:
        ifd[34675] = icc
        ifd.tagtype[34675] = TiffTags.UNDEFINED
    out = io.BytesIO()
    ifd.save(out)  # header and tags; strip offsets are made to point past them
    out.write(b"".join(strips))
    return out.getvalue()


def _deflated_strips(samples: np.ndarray, rows_per_strip: int) -> list[bytes]:
    """Horizontal-difference each row (TIFF predictor 2), then deflate strips."""
    diff = samples.copy()
    diff[:, 1:] -= samples[:, :-1]  # unsigned arithmetic wraps, as the predictor expects
    data = diff.astype(diff.dtype.newbyteorder("<"), copy=False)
    return [
        zlib.compress(data[top : top + rows_per_strip].tobytes(), 6)
        for top in range(0, samples.shape[0], rows_per_strip)
    ]


def _copy_exif_tags(ifd: TiffImagePlugin.ImageFileDirectory_v2, exif: bytes) -> None:
    """The EXIF block's IFD0 tags and its Exif/GPS sub-IFDs, as TIFF keeps them: in IFD0."""
    parsed = Image.Exif()
    parsed.load(exif)
    for tag, value in parsed.items():
        if tag in _LAYOUT_TAGS:
            continue
        if tag in TiffTags.TAGS_V2_GROUPS:
            ifd[tag] = parsed.get_ifd(tag)
        else:
            ifd[tag] = value
