"""The model catalog: every model faceapp knows, where to get it and under which licence.

Built-in entries ship with the app. Users can add their own in ``config_dir()/catalog.toml``::

    [[model]]
    id = "my-gfpgan"
    purpose = "face"          # face or background
    arch = "GFPGAN"           # as faceapp recognises it (GFPGAN, CodeFormer, GPEN, ESRGAN...)
    input_size = 512          # faces; upscalers give `scale` instead
    file_name = "my_gfpgan.pth"
    urls = ["https://example.org/my_gfpgan.pth"]   # optional: without, import-only
    sha256 = "..."            # optional
    licence = "..."

A file that is a supported architecture but no catalog model's official file is imported as a
custom model by the app itself (``store.import_model``): it appends a table like the one above
with ``imported = true``, and removing the model removes that table again.

SHA-256 values are pinned only where several independent sources agree on them; for the other
models the hash of the first completed download is recorded and later files are checked
against it (see model_store).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from faceapp.core import paths
from faceapp.core.errors import FaceappError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FACE = "face"
BACKGROUND = "background"
DETECTOR = "detector"
PARSER = "parser"
INPAINT = "inpaint"  # repairing scratches and damage of whole photos (LaMa)
COLOUR = "colour"  # colour for whole black-and-white photos (DDColor)
PURPOSES = (FACE, BACKGROUND, DETECTOR, PARSER, INPAINT, COLOUR)
IMPORTABLE = (FACE, BACKGROUND, INPAINT, COLOUR)
FACE_ARCHS = ("GFPGAN", "CodeFormer", "GPEN", "RestoreFormer", "RestoreFormer++", "HiFaceGAN")

# What a face model does to an aligned face. GPEN's paper trained the same network for three
# jobs; their files cannot be told apart from their keys, so the catalog entry says which.
RESTORE = "restore"
COLORIZE = "colorize"  # a grey face in, the same face in colour out
COMPLETE = "complete"  # a face with white strokes over its damage in, completed out
FACE_TASKS = (RESTORE, COLORIZE, COMPLETE)

PINNED = "pinned: agreed by several sources"
UNVERIFIED = "unverified: recorded at first download"
SHIPPED = "pinned: the file shipped with faceapp"
USER_PINNED = "pinned: user catalog"

CATALOG_FILE = "catalog.toml"


class CatalogError(FaceappError):
    """The catalog cannot be read (a broken user catalog file) or an entry is invalid."""


class UnknownModelError(CatalogError, KeyError):
    """No catalog entry has the requested id."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    purpose: str
    arch: str
    file_name: str
    urls: tuple[str, ...] = ()
    size: int | None = None
    sha256: str | None = None
    sha256_source: str = UNVERIFIED
    licence: str = ""
    commercial_use: bool | None = None
    input_size: int | None = None  # face models
    scale: int | None = None  # background upscalers
    supports_half: bool | None = None  # None: not measured yet
    fast_precision: str = ""  # what "fast" (bf16 on CPU) did to the output, as measured
    has_fidelity: bool = False
    task: str = RESTORE  # face models: see FACE_TASKS
    archive_member: str | None = None  # the URLs give a zip archive holding the file here
    archive_sha256: str | None = None  # the archive's own hash (checked before extracting)
    description: str = ""
    recommended: bool = False
    shipped: bool = False
    custom: bool = False  # from the user's catalog.toml
    imported: bool = False  # written there by the app when it imported the file

    @property
    def display_name(self) -> str:
        """The name in model lists: "NAME (custom, GFPGAN)" for the user's own models."""
        return f"{self.name} (custom, {self.arch})" if self.custom else self.name

    @property
    def downloadable(self) -> bool:
        return bool(self.urls) and not self.shipped

    @property
    def restores_faces(self) -> bool:
        """A face restoration model (what the model pickers offer)."""
        return self.purpose == FACE and self.task == RESTORE


# ---------------------------------------------------------------------------------- built-in

_GFPGAN = "https://github.com/TencentARC/GFPGAN/releases/download"
_REALESRGAN = "https://github.com/xinntao/Real-ESRGAN/releases/download"
_FACEXLIB = "https://github.com/xinntao/facexlib/releases/download"
_GPEN = "https://public-vigen-video.oss-cn-shanghai.aliyuncs.com/robin/models"
_GPEN_MODELSCOPE = "ModelScope (damo/cv_gpen_image-portrait-enhancement-hires"

_GFPGAN_LICENCE = "Apache-2.0 repo; parts under non-commercial terms (NVIDIA, CC BY-NC-SA)"
_GPEN_LICENCE = "GPEN: academic and non-commercial use only"
_REALESRGAN_LICENCE = "BSD-3-Clause (code; no statement for the weights)"
_HIFACEGAN_LICENCE = (
    "GPL-3.0 repo whose README allows academic use only (no commercial use without Alibaba's "
    "authorisation); SPADE-derived parts NVIDIA CC BY-NC-SA 4.0: non-commercial"
)
_HIFACEGAN_WHERE = "Baidu Netdisk or Yandex Disk links in the README of Lotayou/Face-Renovation"


def _face(**fields: Any) -> CatalogEntry:
    return CatalogEntry(purpose=FACE, input_size=fields.pop("input_size", 512), **fields)


def _gfpgan(version: str, sha256: str, urls: tuple[str, ...], **fields: Any) -> CatalogEntry:
    return _face(
        id=f"gfpgan-{version}",
        name=f"GFPGAN v{version}",
        arch="GFPGAN",
        file_name=f"GFPGANv{version}.pth",
        urls=urls,
        size=348_632_874,
        sha256=sha256,
        sha256_source=PINNED,
        licence=_GFPGAN_LICENCE,
        **fields,
    )


def _gpen(size: int, urls: tuple[str, ...], description: str) -> CatalogEntry:
    return _face(
        id=f"gpen-bfr-{size}",
        name=f"GPEN {size}",
        arch="GPEN",
        input_size=size,
        file_name=f"GPEN-BFR-{size}.pth",
        urls=urls,
        licence=_GPEN_LICENCE,
        commercial_use=False,
        description=description,
    )


def _gpen_import_only(size: int, modelscope_file: str) -> CatalogEntry:
    return _gpen(
        size,
        (),
        f"Very sharp detail for large faces. Not downloadable by faceapp: get {modelscope_file} "
        f"from {_GPEN_MODELSCOPE}) and import it. Non-commercial use only.",
    )


def _hifacegan(model_id: str, variant: str, name: str, purpose: str) -> CatalogEntry:
    """The released checkpoints are all ``checkpoints/<variant>/latest_net_G.pth``."""
    return _face(
        id=model_id,
        name=f"HiFaceGAN {name}",
        arch="HiFaceGAN",
        file_name=f"HiFaceGAN_{variant}.pth",
        licence=_HIFACEGAN_LICENCE,
        commercial_use=False,
        description=f"{purpose}; its authors warn it suits synthetic damage better than real "
        f"photos. Not downloadable by faceapp: get checkpoints/{variant}/latest_net_G.pth "
        f"from the {_HIFACEGAN_WHERE} and import it. Non-commercial use only.",
    )


def _gpen_skill(task: str, title: str, description: str) -> CatalogEntry:
    # No hash is published: the first download's is recorded and later files checked against it.
    return replace(
        _gpen(1024, (f"{_GPEN}/GPEN-{title}-1024.pth",), description),
        id=f"gpen-{title.lower()}-1024",
        name=f"GPEN {title} 1024",
        file_name=f"GPEN-{title}-1024.pth",
        task=task,
    )


def _upscaler(**fields: Any) -> CatalogEntry:
    return CatalogEntry(
        purpose=BACKGROUND, sha256_source=PINNED, licence=_REALESRGAN_LICENCE, **fields
    )


def _facexlib(**fields: Any) -> CatalogEntry:
    return CatalogEntry(sha256_source=PINNED, **fields)


_DDCOLOR = "https://huggingface.co/piddnad/DDColor-models/resolve/main"
_DDCOLOR_LARGE = "Large (ConvNeXt-L, 912 MB): slower, needs about 4 GB of memory."


def _ddcolor(variant: str, file: str, sha256: str | None, **fields: Any) -> CatalogEntry:
    return CatalogEntry(
        id=f"ddcolor-{variant}",
        purpose=COLOUR,
        arch="DDColor-tiny" if variant.endswith("tiny") else "DDColor-large",
        file_name=file,
        urls=(f"{_DDCOLOR}/{file}",),
        sha256=sha256,
        sha256_source=PINNED if sha256 else UNVERIFIED,
        licence="Apache-2.0",
        commercial_use=True,
        **fields,
    )


_COLOUR_AND_REPAIR: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        id="lama-big",
        name="LaMa (big-lama)",
        purpose=INPAINT,
        arch="LaMa",
        file_name="big-lama.ckpt",
        # The README's link: a third-party re-upload of the authors' zip; both hashes below are
        # the values two unrelated public projects pin (the zip's, and best.ckpt's inside it).
        urls=("https://huggingface.co/smartywu/big-lama/resolve/main/big-lama.zip",),
        archive_member="big-lama/models/best.ckpt",
        archive_sha256="f1b358ca24093b93a106183b98a3dea6e8ed09f3b43ea7251eb2c81e7b4575f6",
        size=410_046_389,
        sha256="fccb7adffd53ec0974ee5503c3731c2c2f1e7e07856fd9228cdcc0b46fd5d423",
        sha256_source=PINNED,
        licence="No licence stated for the weights; trained on Places2: non-commercial use",
        commercial_use=False,
        description="Repairs scratches, tears and missing parts with plausible texture "
        "(big-lama.zip is downloaded and only its best.ckpt kept; or import that file). "
        "Non-commercial use only.",
    ),
    _ddcolor(
        "paper-tiny",
        "ddcolor_paper_tiny.pth",
        # the file's Hugging Face LFS object id (its SHA-256), seen in unrelated projects
        "81dd643904f4664c3718513e3320ae3db0c567f0d3e18398606659adee7bfc17",
        name="DDColor (tiny)",
        description="Recommended: brings back natural colour to black-and-white photos; "
        "small (220 MB) and fast.",
        recommended=True,
    ),
    _ddcolor(
        "paper",
        "ddcolor_paper.pth",
        None,  # 789781…: a single source, recorded at first download instead
        name="DDColor (large, paper)",
        description=f"The model of the DDColor paper. {_DDCOLOR_LARGE}",
    ),
    _ddcolor(
        "modelscope",
        "ddcolor_modelscope.pth",
        "17c460d7e55b32a598370621d77173be59e03c24b0823f06821db23a50c263ce",
        name="DDColor (large, ModelScope)",
        size=911_950_059,
        description=f"Trained on more photos; often the most natural colours. {_DDCOLOR_LARGE}",
    ),
    _ddcolor(
        "artistic",
        "ddcolor_artistic.pth",
        None,  # a591ee…: a single source, recorded at first download instead
        name="DDColor (large, artistic)",
        description=f"Bolder, more saturated colours. {_DDCOLOR_LARGE}",
    ),
)


BUILTIN_ENTRIES: tuple[CatalogEntry, ...] = (
    _gfpgan(
        "1.3",
        "c953a88f2727c85c3d9ae72e2bd4846bbaf59fe6972ad94130e23e7017524a70",
        (f"{_GFPGAN}/v1.3.0/GFPGANv1.3.pth",),
        description="Natural-looking faces, softer than v1.4; may tint black-and-white photos.",
    ),
    _gfpgan(
        "1.4",
        "e2cd4703ab14f4d01fd1383a8a8b266f9a5833dacee8e6a79d3bf21a1b6be5ad",
        (f"{_GFPGAN}/v1.3.0/GFPGANv1.4.pth", f"{_GFPGAN}/v1.3.4/GFPGANv1.4.pth"),
        description="Recommended: reliable, natural-looking faces with more detail than v1.3.",
        recommended=True,
    ),
    _face(
        id="codeformer",
        name="CodeFormer",
        arch="CodeFormer",
        file_name="codeformer.pth",
        urls=("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth",),
        size=376_637_898,
        sha256="1009e537e0c2a07d4cabce6355f53cb66767cd4b4297ec7a4a64ca4b8a5684b7",
        sha256_source=PINNED,
        licence="NTU S-Lab License 1.0 (non-commercial)",
        commercial_use=False,
        has_fidelity=True,
        description="Best on badly damaged faces; a slider trades quality for likeness. "
        "Non-commercial use only.",
    ),
    _gpen(
        256,
        (f"{_GPEN}/GPEN-BFR-256.pth",),
        "Small and fast; for small faces. Non-commercial use only.",
    ),
    _gpen(
        512,
        (f"{_GPEN}/GPEN-BFR-512.pth",),
        "Sharp, detailed faces. Non-commercial use only.",
    ),
    _gpen_import_only(1024, "pytorch_model.pt"),
    _gpen_import_only(2048, "pytorch_model-2048.pt"),
    _gpen_skill(
        COLORIZE,
        "Colorization",
        "Colours faces in black-and-white photos (skin, lips, eyes); the photo's own light "
        "and detail are kept. Non-commercial use only.",
    ),
    _gpen_skill(
        COMPLETE,
        "Inpainting",
        "Fills in parts of a face lost to scratches or tears. Non-commercial use only.",
    ),
    _face(
        id="restoreformer",
        name="RestoreFormer",
        arch="RestoreFormer",
        file_name="RestoreFormer.pth",
        urls=(f"{_GFPGAN}/v1.3.4/RestoreFormer.pth",),
        size=290_785_322,
        sha256="07404d446d62ca3d5ed38b1de09a947a1e77d46dbccec961a74d713a8f24ace0",
        sha256_source=PINNED,
        licence=_GFPGAN_LICENCE,
        description="Bolder restoration that may change facial features more than GFPGAN.",
    ),
    _face(
        id="restoreformer-pp",
        name="RestoreFormer++",
        arch="RestoreFormer++",
        file_name="RestoreFormer++.ckpt",
        urls=(
            "https://github.com/wzhouxiff/RestoreFormerPlusPlus/releases/download/v1.0.0/"
            "RestoreFormer++.ckpt",
        ),
        size=294_028_815,
        licence="Apache-2.0",
        commercial_use=True,
        description="Improved RestoreFormer: realistic detail on heavily degraded faces.",
    ),
    _hifacegan(
        "hifacegan-renov",
        "face_renov",
        "renovation",
        "Mixed damage at once: blur, noise, JPEG, low resolution",
    ),
    _hifacegan(
        "hifacegan-renov-2",
        "face_renov_2",
        "renovation 2",
        "Renovation trained on another mix of damage",
    ),
    _hifacegan(
        "hifacegan-generic",
        "generic",
        "generic",
        "The release's 'generic' checkpoint (its training damage is not documented)",
    ),
    _upscaler(
        id="realesrgan-x2plus",
        name="Real-ESRGAN ×2",
        arch="ESRGAN",
        scale=2,
        file_name="RealESRGAN_x2plus.pth",
        urls=(f"{_REALESRGAN}/v0.2.1/RealESRGAN_x2plus.pth",),
        size=67_061_725,
        sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
        description="Doubles the size of the whole photo with cleaner detail.",
    ),
    _upscaler(
        id="realesrgan-x4plus",
        name="Real-ESRGAN ×4",
        arch="ESRGAN",
        scale=4,
        file_name="RealESRGAN_x4plus.pth",
        urls=(f"{_REALESRGAN}/v0.1.0/RealESRGAN_x4plus.pth",),
        size=67_040_989,
        sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
        description="Enlarges the whole photo four times with the best detail; slow on CPUs.",
    ),
    _upscaler(
        id="realesr-general-x4v3",
        name="Real-ESRGAN general ×4 (small)",
        arch="Compact",
        scale=4,
        file_name="realesr-general-x4v3.pth",
        urls=(f"{_REALESRGAN}/v0.2.5.0/realesr-general-x4v3.pth",),
        size=4_885_111,
        sha256="8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
        description="Small and fast ×4 enlargement of the whole photo; good on CPUs.",
    ),
    CatalogEntry(
        id="retinaface-mobile",
        name="RetinaFace MobileNet (built in)",
        purpose=DETECTOR,
        arch="RetinaFace-MobileNet",
        file_name="retinaface_mobilenet0.25.pth",
        size=1_789_735,
        # biubug6's file (Face-Detector-1MB-with-landmark), not facexlib's: the shipped hash.
        sha256="ed6fa7d45a5179f03cb5ce82c73b0c6711372968e53782e88395acee88d319e1",
        sha256_source=SHIPPED,
        licence="MIT",
        commercial_use=True,
        description="Finds the faces in a photo; included with faceapp.",
        shipped=True,
    ),
    _facexlib(
        id="retinaface-r50",
        name="RetinaFace ResNet-50",
        purpose=DETECTOR,
        arch="RetinaFace-R50",
        file_name="detection_Resnet50_Final.pth",
        urls=(f"{_FACEXLIB}/v0.1.0/detection_Resnet50_Final.pth",),
        size=109_497_761,
        sha256="6d1de9c2944f2ccddca5f5e010ea5ae64a39845a86311af6fdf30841b0a5a16d",
        licence="MIT",
        commercial_use=True,
        description="Finds more faces (small, turned, blurry) than the built-in finder; slower.",
    ),
    _facexlib(
        id="parsenet",
        name="ParseNet face parser",
        purpose=PARSER,
        arch="ParseNet",
        file_name="parsing_parsenet.pth",
        urls=(f"{_FACEXLIB}/v0.2.2/parsing_parsenet.pth",),
        size=85_331_193,
        sha256="3d558d8d0e42c20224f13cf5a29c79eba2d59913419f945545d8cf7b72920de2",
        licence="MIT (facexlib; network derived from PSFRGAN, licence unchecked)",
        description="Outlines skin, hair and background so restored faces blend in smoothly.",
    ),
    _facexlib(
        id="bisenet",
        name="BiSeNet face parser",
        purpose=PARSER,
        arch="BiSeNet",
        file_name="parsing_bisenet.pth",
        urls=(f"{_FACEXLIB}/v0.2.0/parsing_bisenet.pth",),
        size=53_289_463,
        sha256="468e13ca13a9b43cc0881a9f99083a430e9c0a38abd935431d1c28ee94b26567",
        licence="MIT",
        commercial_use=True,
        description="A lighter face outliner used to blend restored faces into the photo.",
    ),
    *_COLOUR_AND_REPAIR,
)


# What "fast" precision (bf16 on an AMX/AVX-512-BF16 CPU, OpenVINO) does, measured with
# benchmarks/runtimes.py on the golden weights: pseudo-random, which amplify rounding, so the
# PSNR (8-bit output against PyTorch float32) is a worst case; trained weights move less (the
# real realesr-animevideov3 upscaler: about 54 dB). Speed-up against OpenVINO float32.
_FAST_PRECISION = {
    "gfpgan-1.3": "bf16: 28.2 dB, max |diff| 2.45 (golden weights), 2.4x faster",
    "gfpgan-1.4": "bf16: 28.2 dB, max |diff| 2.45 (golden weights), 2.4x faster",
    "codeformer": "bf16: 18.7 dB (golden weights: code choices flip), 2.2x faster",
    "gpen-bfr-512": "bf16: 39.2 dB, max |diff| 0.12 (golden weights), 2.0x faster",
    "restoreformer-pp": "bf16: 17.7 dB (golden weights: code choices flip), 2.3x faster",
    "hifacegan-renov": "bf16: 45.5 dB, max |diff| 0.43 (golden weights), 1.8x faster",
    "hifacegan-renov-2": "bf16: 45.5 dB, max |diff| 0.43 (golden weights), 1.8x faster",
    "hifacegan-generic": "bf16: 45.5 dB, max |diff| 0.43 (golden weights), 1.8x faster",
}
BUILTIN_ENTRIES = tuple(
    replace(e, fast_precision=_FAST_PRECISION[e.id]) if e.id in _FAST_PRECISION else e
    for e in BUILTIN_ENTRIES
)


# ---------------------------------------------------------------------------------- queries


def catalog() -> list[CatalogEntry]:
    """Built-in entries followed by those of the user's catalog.toml (read on each call)."""
    builtin = list(BUILTIN_ENTRIES)
    return builtin + load_user_entries(user_catalog_path(), builtin)


def get_entry(model_id: str) -> CatalogEntry:
    entries = catalog()
    for entry in entries:
        if entry.id == model_id:
            return entry
    valid = ", ".join(entry.id for entry in entries)
    raise UnknownModelError(f"There is no model '{model_id}'. Known models: {valid}.")


def default_face_model() -> str:
    return next(e.id for e in BUILTIN_ENTRIES if e.restores_faces and e.recommended)


def default_model(purpose: str) -> str:
    """The recommended built-in model of a purpose (e.g. COLOUR)."""
    return next(e.id for e in BUILTIN_ENTRIES if e.purpose == purpose and e.recommended)


def user_catalog_path() -> Path:
    return paths.config_dir() / CATALOG_FILE


# ---------------------------------------------------------------------------------- user file

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_RESERVED_FILES = {"hashes.json"}
_USER_PURPOSES = (FACE, BACKGROUND, INPAINT, COLOUR)
_FIELD_TYPES: dict[str, type] = {
    "id": str,
    "name": str,
    "purpose": str,
    "arch": str,
    "file_name": str,
    "urls": list,
    "size": int,
    "sha256": str,
    "licence": str,
    "commercial_use": bool,
    "input_size": int,
    "scale": int,
    "supports_half": bool,
    "has_fidelity": bool,
    "description": str,
    "recommended": bool,
    "imported": bool,
}
_REQUIRED = ("id", "purpose", "arch", "file_name")
_NOT_SETTABLE = ("shipped", "sha256_source", "custom")


def load_user_entries(path: Path, existing: list[CatalogEntry]) -> list[CatalogEntry]:
    """Entries of a user catalog file; [] when there is none. Raises CatalogError."""
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"Cannot read the model catalog {path}: {error}.") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path} is not a valid TOML file: {error}.") from error
    tables = data.get("model", [])
    if set(data) - {"model"} or not isinstance(tables, list):
        raise CatalogError(f"{path}: expected only [[model]] tables.")
    entries: list[CatalogEntry] = []
    for index, table in enumerate(tables, start=1):
        context = _Context(path, index, [*existing, *entries])
        entries.append(context.parse(table))
    return entries


@dataclass
class _Context:
    path: Path
    index: int
    taken: list[CatalogEntry]
    model_id: str = ""

    def fail(self, field: str, problem: str) -> CatalogError:
        which = f"model {self.index}" + (f" ('{self.model_id}')" if self.model_id else "")
        return CatalogError(f"{self.path}: {which}: field '{field}' {problem}.")

    def parse(self, table: Any) -> CatalogEntry:
        if not isinstance(table, dict):
            raise CatalogError(f"{self.path}: model {self.index} is not a table.")
        fields = dict(table)
        if "license" in fields and "licence" not in fields:
            fields["licence"] = fields.pop("license")
        self._check_types(fields)
        self._check_id(fields["id"])
        self._check_purpose(fields)
        self._check_file_name(fields["file_name"])
        return self._build(fields)

    def _check_types(self, fields: dict[str, Any]) -> None:
        self.model_id = fields.get("id", "") if isinstance(fields.get("id"), str) else ""
        for name in _REQUIRED:
            if name not in fields:
                raise self.fail(name, "is missing")
        for name, value in fields.items():
            if name in _NOT_SETTABLE:
                raise self.fail(name, "cannot be set in a user catalog")
            expected = _FIELD_TYPES.get(name)
            if expected is None:
                raise self.fail(name, f"is unknown (known: {', '.join(_FIELD_TYPES)})")
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise self.fail(name, f"must be of type {_TYPE_NAMES[expected]}")

    def _check_id(self, model_id: str) -> None:
        if not _ID_RE.match(model_id):
            raise self.fail("id", "must be lower-case letters, digits, '.', '_', '+' or '-'")
        if any(entry.id == model_id for entry in self.taken):
            raise self.fail("id", "is already used by another model; pick another id")

    def _check_purpose(self, fields: dict[str, Any]) -> None:
        purpose = fields["purpose"]
        if purpose not in _USER_PURPOSES:
            raise self.fail("purpose", f"must be one of {', '.join(_USER_PURPOSES)}")
        if purpose == FACE and fields["arch"] not in FACE_ARCHS:
            raise self.fail("arch", f"must be one of {', '.join(FACE_ARCHS)} for a face model")
        if purpose not in (FACE, BACKGROUND):
            return  # inpainting and colour models work at any size
        needed = "input_size" if purpose == FACE else "scale"
        if fields.get(needed, 0) <= 0:
            raise self.fail(needed, f"must be a positive number for a {purpose} model")

    def _check_file_name(self, name: str) -> None:
        if not name or Path(name).name != name or name.startswith(".") or "\\" in name:
            raise self.fail("file_name", "must be a plain file name (no folders)")
        if name in _RESERVED_FILES or name.endswith(".part"):
            raise self.fail("file_name", "is reserved by faceapp")
        if any(entry.file_name == name for entry in self.taken):
            raise self.fail("file_name", "is already used by another model")

    def _build(self, fields: dict[str, Any]) -> CatalogEntry:
        urls = fields.pop("urls", [])
        if not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls):
            raise self.fail("urls", "must be a list of http:// or https:// addresses")
        sha256 = fields.pop("sha256", None)
        if sha256 is not None:
            sha256 = sha256.strip().lower()
            if not _SHA_RE.match(sha256):
                raise self.fail("sha256", "must be 64 hexadecimal characters")
        if fields.get("size", 1) <= 0:
            raise self.fail("size", "must be a positive number of bytes")
        return CatalogEntry(
            **{"name": fields["id"], **fields},
            urls=tuple(urls),
            sha256=sha256,
            sha256_source=USER_PINNED if sha256 else UNVERIFIED,
            custom=True,
        )


_TYPE_NAMES = {str: "text", int: "integer", bool: "true/false", list: "list"}


# ---------------------------------------------------------------------------------- imported

_HEADER = "# faceapp's user catalog: models of your own (see faceapp/core/models/catalog.py).\n"
_TABLE_START = re.compile(r"^[ \t]*\[\[[ \t]*model[ \t]*\]\]", re.MULTILINE)


def free_id(name: str, taken_files: set[str] | None = None) -> str:
    """An unused catalog id made from a model's name ("My GFPGAN v2" -> "my-gfpgan-v2")."""
    base = re.sub(r"[^a-z0-9._+-]+", "-", name.lower()).strip("-._+")[:56] or "custom"
    if not base[0].isalnum():
        base = f"model-{base}"
    entries = catalog()
    # Lower-cased: "gfpganv1.4.pth" and "GFPGANv1.4.pth" are one file on macOS and Windows.
    taken = {e.id for e in entries} | {Path(e.file_name).stem.lower() for e in entries}
    taken |= {name.lower() for name in taken_files or set()}
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def add_imported_entry(fields: dict[str, Any]) -> CatalogEntry:
    """Append a ``[[model]]`` table to the user catalog (atomically, comments kept); the whole
    file is validated before it is written. Returns the new entry."""
    path = user_catalog_path()
    text = path.read_text(encoding="utf-8") if path.is_file() else _HEADER
    new_text = text.rstrip("\n") + "\n\n" + _table_text({**fields, "imported": True})
    entries = _entries_of(new_text, path)
    _write_atomically(path, new_text)
    return next(entry for entry in entries if entry.id == fields["id"])


def remove_imported_entry(model_id: str) -> bool:
    """Remove the table the app wrote for ``model_id``; False when there is none (hand-written
    entries are the user's: they stay)."""
    path = user_catalog_path()
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in _TABLE_START.finditer(text)]
    chunks = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    kept = [chunk for chunk in chunks if not _is_imported_table(chunk, model_id)]
    if len(kept) == len(chunks):
        return False
    new_text = text[: starts[0]] + "".join(kept)
    _entries_of(new_text, path)
    _write_atomically(path, new_text)
    return True


def _is_imported_table(chunk: str, model_id: str) -> bool:
    try:
        [table] = tomllib.loads(chunk).get("model", [{}])
    except (tomllib.TOMLDecodeError, ValueError):
        return False
    return table.get("id") == model_id and table.get("imported") is True


def _entries_of(text: str, path: Path) -> list[CatalogEntry]:
    """Parse and validate a user catalog's text (as load_user_entries would read it)."""
    with tempfile.TemporaryDirectory() as folder:
        check = Path(folder) / CATALOG_FILE
        check.write_text(text, encoding="utf-8")
        try:
            return load_user_entries(check, list(BUILTIN_ENTRIES))
        except CatalogError as error:
            raise CatalogError(str(error).replace(str(check), str(path))) from error


def _table_text(fields: dict[str, Any]) -> str:
    lines = ["[[model]]"]
    for key, value in fields.items():
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to the catalog")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".catalog-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
