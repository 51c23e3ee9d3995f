"""The built-in model catalog and the user's catalog.toml (custom models)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from models_testkit import ModelServer, serving, write_user_catalog

from faceapp.core import paths
from faceapp.core.errors import ChecksumError, FaceappError
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.models.catalog import (
    BACKGROUND,
    FACE,
    FACE_ARCHS,
    PURPOSES,
    CatalogError,
    UnknownModelError,
)

ENTRIES = catalog.BUILTIN_ENTRIES
BY_ID = {entry.id: entry for entry in ENTRIES}
EXPECTED_IDS = {
    "gfpgan-1.3",
    "gfpgan-1.4",
    "codeformer",
    "gpen-bfr-256",
    "gpen-bfr-512",
    "gpen-bfr-1024",
    "gpen-bfr-2048",
    "gpen-colorization-1024",
    "gpen-inpainting-1024",
    "restoreformer",
    "restoreformer-pp",
    "hifacegan-renov",
    "hifacegan-renov-2",
    "hifacegan-generic",
    "realesrgan-x2plus",
    "realesrgan-x4plus",
    "realesr-general-x4v3",
    "retinaface-mobile",
    "retinaface-r50",
    "parsenet",
    "bisenet",
}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    with serving(monkeypatch) as srv:
        yield srv


# ------------------------------------------------------------------------------ built-in


def test_ids_are_the_expected_unique_ones() -> None:
    ids = [entry.id for entry in ENTRIES]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS
    assert len({entry.file_name for entry in ENTRIES}) == len(ENTRIES)


def test_every_face_architecture_is_covered() -> None:
    from faceapp.core.models import loading as models

    loadable = {*models._SPANDREL_FACE, "GPEN", "RestoreFormer++", "HiFaceGAN"}
    assert {e.arch for e in ENTRIES if e.purpose == FACE} == set(FACE_ARCHS) == loadable
    assert {e.purpose for e in ENTRIES} == set(PURPOSES)
    for entry in ENTRIES:
        if entry.purpose == FACE:
            assert entry.input_size in (256, 512, 1024, 2048) and entry.scale is None
        elif entry.purpose == BACKGROUND:
            assert entry.scale in (2, 4) and entry.input_size is None


def test_pinned_hashes_are_well_formed() -> None:
    for entry in ENTRIES:
        if entry.sha256 is None:
            assert entry.sha256_source == catalog.UNVERIFIED, entry.id
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.id
            assert entry.sha256_source.startswith("pinned:"), entry.id
    hashes = [e.sha256 for e in ENTRIES if e.sha256]
    assert len(hashes) == len(set(hashes))


def test_licences_and_commercial_use() -> None:
    for entry in ENTRIES:
        assert entry.licence and entry.description and entry.name, entry.id
        assert entry.supports_half is None  # measured on a GPU later, not guessed
    non_commercial = ("codeformer", "gpen-bfr-256", "gpen-bfr-512", "gpen-bfr-1024")
    for model_id in (*non_commercial, "hifacegan-renov", "hifacegan-generic"):
        assert BY_ID[model_id].commercial_use is False
        assert "non-commercial" in BY_ID[model_id].description.lower()
    assert BY_ID["codeformer"].has_fidelity
    assert sum(e.has_fidelity for e in ENTRIES) == 1


def test_urls_are_official_https_and_gpen_hires_is_import_only() -> None:
    for entry in ENTRIES:
        for url in entry.urls:
            assert urlsplit(url).scheme == "https", url
    for model_id in ("gpen-bfr-1024", "gpen-bfr-2048"):
        entry = BY_ID[model_id]
        assert entry.urls == () and entry.sha256 is None and not entry.downloadable
        assert "ModelScope" in entry.description and "import" in entry.description
    assert BY_ID["gfpgan-1.4"].urls[0].endswith("/v1.3.0/GFPGANv1.4.pth")


def test_hifacegan_entries_are_import_only_and_honest() -> None:
    entries = [e for e in ENTRIES if e.arch == "HiFaceGAN"]
    assert [e.id for e in entries] == ["hifacegan-renov", "hifacegan-renov-2", "hifacegan-generic"]
    for entry in entries:
        assert entry.urls == () and entry.sha256 is None and not entry.downloadable
        assert (entry.purpose, entry.input_size, entry.commercial_use) == (FACE, 512, False)
        assert "Baidu Netdisk or Yandex Disk" in entry.description
        assert "synthetic damage better than real photos" in entry.description
        assert "latest_net_G.pth" in entry.description and "import" in entry.description
        assert "GPL-3.0" in entry.licence and "CC BY-NC-SA 4.0" in entry.licence


def test_default_face_model_is_the_only_recommended_face_model() -> None:
    assert catalog.default_face_model() == "gfpgan-1.4"
    assert [e.id for e in ENTRIES if e.recommended] == ["gfpgan-1.4"]


def test_shipped_detector_is_the_bundled_file() -> None:
    entry = BY_ID["retinaface-mobile"]
    assert entry.shipped and not entry.downloadable
    assert [e.id for e in ENTRIES if e.shipped] == ["retinaface-mobile"]
    path = paths.resource("weights", entry.file_name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert path.stat().st_size == entry.size


def test_unknown_id_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownModelError) as info:
        catalog.get_entry("gfpgan-9")
    assert isinstance(info.value, FaceappError) and isinstance(info.value, KeyError)
    message = str(info.value)
    assert "gfpgan-9" in message and "gfpgan-1.4" in message and "codeformer" in message
    assert not message.startswith("'")


# ------------------------------------------------------------------------------ user catalog

CUSTOM = """
[[model]]
id = "my-upscaler"
name = "My upscaler"
purpose = "background"
arch = "Compact"
scale = 4
file_name = "my_upscaler.pth"
urls = ["https://example.org/models/my_upscaler.pth"]
license = "BSD-3-Clause"
commercial_use = true
description = "A custom test model."
"""


def test_user_catalog_adds_models() -> None:
    write_user_catalog(CUSTOM)
    entries = catalog.catalog()
    assert [e.id for e in entries[: len(ENTRIES)]] == [e.id for e in ENTRIES]
    entry = catalog.get_entry("my-upscaler")
    assert entry.custom and entry.purpose == BACKGROUND and entry.scale == 4
    assert entry.licence == "BSD-3-Clause" and entry.commercial_use is True
    assert entry.sha256 is None and entry.sha256_source == catalog.UNVERIFIED
    assert entry.urls == ("https://example.org/models/my_upscaler.pth",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('purpose = "background"', 'purpose = "detector"'), "purpose"),
        (("scale = 4", 'scale = "4"'), "scale"),
        (("scale = 4\n", ""), "scale"),
        (('arch = "Compact"\n', ""), "arch"),
        (('id = "my-upscaler"', 'id = "gfpgan-1.4"'), "id"),
        (('id = "my-upscaler"', 'id = "My Upscaler"'), "id"),
        (('file_name = "my_upscaler.pth"', 'file_name = "../x.pth"'), "file_name"),
        (('file_name = "my_upscaler.pth"', 'file_name = "codeformer.pth"'), "file_name"),
        (("urls = [", 'sha256 = "abc"\nurls = ['), "sha256"),
        (('urls = ["https:', 'urls = ["file:'), "urls"),
        (("commercial_use = true", "comercial_use = true"), "comercial_use"),
        (("commercial_use = true", "shipped = true"), "shipped"),
    ],
)
def test_invalid_user_entries_name_file_and_field(change: tuple[str, str], field: str) -> None:
    old, new = change
    assert old in CUSTOM
    path = write_user_catalog(CUSTOM.replace(old, new, 1))
    with pytest.raises(CatalogError) as info:
        catalog.catalog()
    message = str(info.value)
    assert str(path) in message and f"'{field}'" in message


def test_invalid_toml_names_the_file() -> None:
    path = write_user_catalog("[[model]]\nid = \n")
    with pytest.raises(CatalogError, match=re.escape(str(path))):
        catalog.get_entry("gfpgan-1.4")


def test_face_model_needs_a_known_architecture() -> None:
    write_user_catalog(CUSTOM.replace('purpose = "background"', 'purpose = "face"'))
    with pytest.raises(CatalogError, match="'arch'"):
        catalog.catalog()


def test_custom_model_downloads_verifies_and_lists(server: ModelServer) -> None:
    data = os.urandom(300_000)
    server.files["/models/my_upscaler.pth"] = data
    write_user_catalog(CUSTOM)

    path = model_store.download_model("my-upscaler")
    assert path == paths.models_dir() / "my_upscaler.pth" and path.read_bytes() == data
    # Unpinned: the first download's hash is recorded and verified against later.
    assert model_store.reference_hash(catalog.get_entry("my-upscaler")) == (
        hashlib.sha256(data).hexdigest()
    )
    assert model_store.verify(["my-upscaler"]) == [("my-upscaler", True, "SHA-256 matches")]
    row = next(r for r in model_store.model_status() if r["id"] == "my-upscaler")
    assert row["installed"] and row["custom"] and row["size"] == len(data)

    model_store.remove("my-upscaler")
    server.files["/models/my_upscaler.pth"] = os.urandom(300_000)
    with pytest.raises(ChecksumError):
        model_store.download_model("my-upscaler")
    assert model_store.installed_path("my-upscaler") is None
    assert sorted(p.name for p in paths.models_dir().iterdir()) == ["hashes.json"]


def test_custom_model_pinned_in_toml_and_fallback_url(server: ModelServer) -> None:
    data = os.urandom(100_000)
    server.files["/mirror/my_upscaler.pth"] = data
    sha = hashlib.sha256(data).hexdigest()
    urls = 'urls = ["https://example.org/gone.pth", "https://example.org/mirror/my_upscaler.pth"]'
    text = CUSTOM.replace('urls = ["https://example.org/models/my_upscaler.pth"]', urls)
    write_user_catalog(text.replace("scale = 4", f'scale = 4\nsha256 = "{sha.upper()}"'))

    entry = catalog.get_entry("my-upscaler")
    assert entry.sha256 == sha and entry.sha256_source == catalog.USER_PINNED
    assert model_store.download_model("my-upscaler").read_bytes() == data
    assert server.requests == ["/gone.pth", "/mirror/my_upscaler.pth"]
    assert not (paths.models_dir() / "hashes.json").exists()
