"""The model folder: download, import, verify and remove, and the `models` CLI commands."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch
from conftest import SHARED, load_golden, require_shared
from models_testkit import ModelServer, serving, write_user_catalog

from faceapp.cli.models import add_models_parser, run_models
from faceapp.core import paths
from faceapp.core.errors import (
    ChecksumError,
    ModelLoadError,
    ModelNotInstalledError,
    UnsafeModelError,
    UnsupportedModelError,
)
from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.core.models.download import DownloadProgress, sha256_file
from faceapp.core.models.store import ModelImportError, ModelStoreError

GFPGAN_URL_PATH = "/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.4.pth"
ANIME = SHARED / "weights" / "realesr-animevideov3.pth"
WRONG_SHA = "ab" * 32
ANIME_CATALOG = """
[[model]]
id = "anime-x4"
purpose = "background"
arch = "Compact"
scale = 4
file_name = "realesr-animevideov3.pth"
licence = "BSD-3-Clause"
"""


@dataclass(frozen=True)
class GoldenFile:
    path: Path
    sha256: str
    size: int


@pytest.fixture(scope="module")
def gfpgan_file(tmp_path_factory: pytest.TempPathFactory) -> GoldenFile:
    """A regenerated GFPGAN v1.4 checkpoint wrapped like the official one (about 350 MB)."""
    state_dict, _ = load_golden("gfpgan_v1.4")
    path = tmp_path_factory.mktemp("golden") / "GFPGANv1.4.pth"
    torch.save({"params_ema": state_dict}, path)
    del state_dict
    return GoldenFile(path, sha256_file(path), path.stat().st_size)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    with serving(monkeypatch) as srv:
        yield srv


def patch_entry(monkeypatch: pytest.MonkeyPatch, model_id: str, **changes: object) -> None:
    entries = tuple(
        replace(e, **changes) if e.id == model_id else e for e in catalog.BUILTIN_ENTRIES
    )
    monkeypatch.setattr(catalog, "BUILTIN_ENTRIES", entries)


def models_folder_names() -> list[str]:
    folder = paths.models_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="faceapp-cli")
    add_models_parser(parser.add_subparsers(dest="command", required=True))
    return run_models(parser.parse_args(["models", *argv]))


def unchanged(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


# ------------------------------------------------------------------------------ lookups


def test_missing_model_says_how_to_get_it() -> None:
    assert model_store.installed_path("gfpgan-1.4") is None
    with pytest.raises(ModelNotInstalledError, match="faceapp-cli models download gfpgan-1.4"):
        model_store.require_model("gfpgan-1.4")
    with pytest.raises(ModelNotInstalledError, match="import PATH --as gpen-bfr-2048"):
        model_store.require_model("gpen-bfr-2048")
    with pytest.raises(ModelStoreError, match="no download address"):
        model_store.download_model("gpen-bfr-1024")


def test_shipped_detector_is_installed_and_cannot_be_removed() -> None:
    path = model_store.require_model("retinaface-mobile")
    assert path == paths.resource("weights", "retinaface_mobilenet0.25.pth")
    assert paths.models_dir() not in path.parents
    with pytest.raises(ModelStoreError, match="cannot be removed"):
        model_store.remove("retinaface-mobile")
    assert model_store.verify() == [("retinaface-mobile", True, "SHA-256 matches")]


# ------------------------------------------------------------------------------ download


@pytest.mark.shared
def test_download_catalog_model(
    server: ModelServer, gfpgan_file: GoldenFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_entry(monkeypatch, "gfpgan-1.4", sha256=gfpgan_file.sha256, size=gfpgan_file.size)
    server.files[GFPGAN_URL_PATH] = gfpgan_file.path
    calls: list[DownloadProgress] = []

    path = model_store.download_model("gfpgan-1.4", progress=calls.append)
    assert path == paths.models_dir() / "GFPGANv1.4.pth"
    assert sha256_file(path) == gfpgan_file.sha256
    assert calls[-1].downloaded == calls[-1].total == gfpgan_file.size
    assert model_store.require_model("gfpgan-1.4") == path
    assert models_folder_names() == ["GFPGANv1.4.pth"]  # pinned: no hash recorded

    # Installed and intact: nothing is fetched again.
    assert model_store.download_model("gfpgan-1.4") == path
    assert server.requests == [GFPGAN_URL_PATH]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("tamper", [None, "member", "archive"])
def test_download_keeps_the_model_file_out_of_a_zip(
    server: ModelServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tamper: str | None
) -> None:
    ckpt = os.urandom(5000)
    members = {"big-lama/config.yaml": b"x", "big-lama/models/best.ckpt": ckpt}
    archive = _zip(tmp_path / "big-lama.zip", members)
    member_sha = hashlib.sha256(ckpt).hexdigest()
    patch_entry(
        monkeypatch,
        "lama-big",
        sha256=WRONG_SHA if tamper == "member" else member_sha,
        size=len(ckpt),
        archive_sha256=WRONG_SHA if tamper == "archive" else sha256_file(archive),
    )
    server.files[urlsplit(catalog.get_entry("lama-big").urls[0]).path] = archive
    if tamper is None:
        path = model_store.download_model("lama-big")
        assert path.name == "big-lama.ckpt" and path.read_bytes() == ckpt
        assert models_folder_names() == ["big-lama.ckpt"]  # the zip is gone
        model_store.remove("lama-big")
    else:
        with pytest.raises(ChecksumError):
            model_store.download_model("lama-big")
    assert models_folder_names() == []


@pytest.mark.shared
def test_download_with_wrong_checksum_leaves_nothing(
    server: ModelServer, gfpgan_file: GoldenFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_entry(monkeypatch, "gfpgan-1.4", sha256=WRONG_SHA, size=None)
    server.files[GFPGAN_URL_PATH] = gfpgan_file.path
    with pytest.raises(ChecksumError, match="SHA-256 mismatch"):
        model_store.download_model("gfpgan-1.4")
    assert models_folder_names() == []


# ------------------------------------------------------------------------------ import


@pytest.mark.shared
def test_import_gfpgan_as_unpinned_id(
    gfpgan_file: GoldenFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for model_id in ("gfpgan-1.3", "gfpgan-1.4"):
        patch_entry(monkeypatch, model_id, sha256=None, sha256_source=catalog.UNVERIFIED)
    before = unchanged(gfpgan_file.path)

    # v1.3 and v1.4 share an architecture: without a hash to tell them apart, ask.
    with pytest.raises(ModelImportError, match=r"several models \(gfpgan-1.3, gfpgan-1.4\)"):
        model_store.import_model(gfpgan_file.path)
    assert models_folder_names() == []

    entry, dest = model_store.import_model(gfpgan_file.path, as_id="gfpgan-1.4")
    assert entry.id == "gfpgan-1.4" and dest == paths.models_dir() / "GFPGANv1.4.pth"
    assert sha256_file(dest) == gfpgan_file.sha256
    assert unchanged(gfpgan_file.path) == before
    assert models_folder_names() == ["GFPGANv1.4.pth", "hashes.json"]
    # An import is not a reference for downloads, but lets verify notice damage.
    assert model_store.reference_hash(entry) is None
    assert model_store.verify(["gfpgan-1.4"]) == [("gfpgan-1.4", True, "SHA-256 matches")]


@pytest.mark.shared
def test_import_with_mismatching_pin_stores_nothing(
    gfpgan_file: GoldenFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_entry(monkeypatch, "gfpgan-1.4", sha256=WRONG_SHA)
    with pytest.raises(ChecksumError, match="Nothing was imported"):
        model_store.import_model(gfpgan_file.path, as_id="gfpgan-1.4")
    assert models_folder_names() == []
    assert gfpgan_file.path.is_file()


@pytest.mark.shared
def test_import_matches_by_pinned_hash(
    gfpgan_file: GoldenFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_entry(monkeypatch, "gfpgan-1.3", sha256=gfpgan_file.sha256)
    entry, dest = model_store.import_model(gfpgan_file.path)
    assert entry.id == "gfpgan-1.3" and dest.name == "GFPGANv1.3.pth"
    assert models_folder_names() == ["GFPGANv1.3.pth"]


@pytest.mark.shared
def test_import_background_model_via_user_catalog() -> None:
    require_shared("weights", ANIME.name)
    write_user_catalog(ANIME_CATALOG)
    entry, dest = model_store.import_model(ANIME)
    assert entry.id == "anime-x4" and entry.purpose == "background"
    assert dest.read_bytes() == ANIME.read_bytes()
    assert model_store.require_model("anime-x4") == dest


@pytest.mark.shared
def test_import_repair_and_colour_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lama = tmp_path / "best.ckpt"
    sd, _ = load_golden("lama_big")
    torch.save({"state_dict": {f"generator.{k}": v for k, v in sd.items()}, "epoch": 3}, lama)
    tiny = tmp_path / "ddcolor_paper_tiny.pth"
    torch.save({"params": load_golden("ddcolor_paper_tiny")[0]}, tiny)
    # A large DDColor entry does not take a tiny file.
    with pytest.raises(ModelImportError, match="DDColor-tiny colorization model"):
        model_store.import_model(tiny, as_id="ddcolor-artistic")
    # With their hashes pinned, they are matched and stored under the catalog's names...
    patch_entry(monkeypatch, "lama-big", sha256=sha256_file(lama))
    patch_entry(monkeypatch, "ddcolor-paper-tiny", sha256=sha256_file(tiny))
    assert model_store.import_model(lama)[1].name == "big-lama.ckpt"
    assert model_store.import_model(tiny)[1].name == "ddcolor_paper_tiny.pth"
    assert models_folder_names() == ["big-lama.ckpt", "ddcolor_paper_tiny.pth"]
    # ... and one that is no official file becomes the user's own model of that kind.
    model_store.remove("lama-big")
    patch_entry(monkeypatch, "lama-big", sha256=WRONG_SHA)
    entry, dest = model_store.import_model(lama)
    assert entry.custom and (entry.purpose, entry.arch) == (catalog.INPAINT, "LaMa")
    assert model_store.require_model(entry.id) == dest


@pytest.mark.shared
def test_import_hifacegan_checkpoint_with_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every released HiFaceGAN file is `latest_net_G.pth`, a plain state dict, with no pinned
    hash: the CLI asks which model it is, then stores it under that model's name."""
    state_dict, _ = load_golden("hifacegan")
    source = tmp_path / "face_renov" / "latest_net_G.pth"
    source.parent.mkdir()
    torch.save(state_dict, source)
    del state_dict

    assert cli("import", str(source)) == 1
    ids = "hifacegan-renov, hifacegan-renov-2, hifacegan-generic"
    message = capsys.readouterr().err
    assert f"several models ({ids}). Say which one it is" in message
    assert "on the command line with --as ID" in message
    assert cli("import", str(source), "--as", "gpen-bfr-512") == 1
    assert "HiFaceGAN face restoration model (512 px), but gpen-bfr-512" in capsys.readouterr().err
    assert models_folder_names() == []

    assert cli("import", str(source), "--as", "hifacegan-renov") == 0
    dest = paths.models_dir() / "HiFaceGAN_face_renov.pth"
    assert model_store.require_model("hifacegan-renov") == dest
    assert dest.read_bytes() == source.read_bytes()
    capsys.readouterr()
    assert cli("list", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["hifacegan-renov"]["installed"] and not rows["hifacegan-generic"]["installed"]
    assert rows["hifacegan-renov"]["commercial_use"] is False
    assert model_store.verify(["hifacegan-renov"]) == [("hifacegan-renov", True, "SHA-256 matches")]


@pytest.mark.shared
def test_import_refuses_a_detector() -> None:
    detector = require_shared("weights", "retinaface_mobilenet0.25.pth")
    with pytest.raises(UnsupportedModelError, match="seems to be a RetinaFace-MobileNet face det"):
        model_store.import_model(detector)
    with pytest.raises(ModelStoreError, match="only face restoration, background"):
        model_store.import_model(detector, as_id="retinaface-r50")
    assert models_folder_names() == []


def test_import_refuses_a_random_file(tmp_path: Path) -> None:
    junk = tmp_path / "holiday.pth"
    junk.write_bytes(os.urandom(10_000))
    # weights.py currently calls any non-pickle file "program code" (UnsafeModelError);
    # either way it must be a ModelLoadError naming the user's file.
    with pytest.raises(ModelLoadError, match="'holiday.pth'"):
        model_store.import_model(junk)
    assert models_folder_names() == []
    with pytest.raises(ModelStoreError, match="no file"):
        model_store.import_model(tmp_path / "missing.pth")


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (os.system, (f"touch {self.marker}",))


def test_import_refuses_an_unsafe_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"params_ema": {"w": torch.zeros(2)}, "hook": _Evil(marker)}, evil)
    with pytest.raises(UnsafeModelError, match="'evil.pth'"):
        model_store.import_model(evil)
    assert not marker.exists()
    assert models_folder_names() == []


# ------------------------------------------------------------------------------ verify, remove


@pytest.mark.shared
def test_verify_detects_damage_and_remove_deletes() -> None:
    require_shared("weights", ANIME.name)
    write_user_catalog(ANIME_CATALOG)
    _, dest = model_store.import_model(ANIME, as_id="anime-x4")
    assert cli("verify") == 0

    with open(dest, "r+b") as file:
        file.seek(1000)
        file.write(b"\x00" * 16)
    [(model_id, ok, message)] = model_store.verify(["anime-x4"])
    assert (model_id, ok) == ("anime-x4", False) and "damaged" in message
    assert cli("verify", "anime-x4") == 1

    assert model_store.remove("anime-x4") == dest
    assert not dest.exists() and model_store.installed_path("anime-x4") is None
    assert "anime-x4" not in json.loads((paths.models_dir() / "hashes.json").read_text())["models"]
    with pytest.raises(ModelNotInstalledError):
        model_store.remove("anime-x4")


@pytest.mark.shared
def test_verify_falls_back_to_loading_without_a_reference_hash() -> None:
    require_shared("weights", ANIME.name)
    write_user_catalog(ANIME_CATALOG)
    paths.models_dir().mkdir(parents=True)
    (paths.models_dir() / ANIME.name).write_bytes(ANIME.read_bytes())  # copied in by hand
    [(_, ok, message)] = model_store.verify(["anime-x4"])
    assert ok and "Compact background upscaler" in message


# ------------------------------------------------------------------------------ CLI


def test_cli_list_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} == {e.id for e in catalog.BUILTIN_ENTRIES}
    for row in rows:
        assert row["licence"] and "commercial_use" in row and isinstance(row["installed"], bool)
    by_id = {r["id"]: r for r in rows}
    assert by_id["codeformer"]["commercial_use"] is False
    assert by_id["retinaface-mobile"]["installed"] is True

    assert cli("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PURPOSE", "SIZE", "INSTALLED", "LICENCE"]
    assert any(line.startswith("gfpgan-1.4 ") and "332.5 MB" in line for line in lines)


def test_cli_dir(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("dir") == 0
    assert capsys.readouterr().out.strip() == str(paths.models_dir())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("download", "nope"), "There is no model 'nope'"),
        (("download", "gpen-bfr-2048"), "gpen-bfr-2048: GPEN 2048 (gpen-bfr-2048) has no"),
        (("remove", "gfpgan-1.4"), "is not installed"),
        (("remove", "retinaface-mobile"), "cannot be removed"),
        (("verify", "codeformer"), "1 of 1 models failed verification"),
        (("import", "/no/such/file.pth"), "There is no file"),
    ],
)
def test_cli_failures_print_one_line(
    argv: tuple[str, ...], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*argv) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and expected in err and "Traceback" not in err


def test_cli_download_and_remove(
    server: ModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = os.urandom(200_000)
    server.files["/models/small.pth"] = data
    write_user_catalog(
        ANIME_CATALOG.replace("anime-x4", "small").replace("realesr-animevideov3", "small")
        + 'urls = ["https://example.org/models/small.pth"]\n'
    )
    assert cli("download", "small") == 0
    captured = capsys.readouterr()
    assert "Downloading small (licence: BSD-3-Clause)" in captured.err and "100%" in captured.err
    assert captured.out.strip() == f"small: downloaded: {paths.models_dir() / 'small.pth'}"
    assert cli("download", "small") == 0
    assert "already installed" in capsys.readouterr().out

    assert cli("remove", "small") == 0
    assert "Removed small" in capsys.readouterr().out
    assert model_store.installed_path("small") is None


# ------------------------------------------------------------------------------ custom models


def user_catalog_text() -> str:
    return catalog.user_catalog_path().read_text(encoding="utf-8")


@pytest.mark.shared
def test_a_fine_tuned_gfpgan_is_imported_as_custom_in_one_step(
    gfpgan_file: GoldenFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Golden weights in the official layout: a GFPGAN, but not the official (pinned) file.
    mine = tmp_path / "my_finetuned_gfpgan.pth"
    mine.symlink_to(gfpgan_file.path)
    assert cli("import", str(mine)) == 0
    out = capsys.readouterr().out
    assert "as my_finetuned_gfpgan (custom, GFPGAN), id my_finetuned_gfpgan:" in out
    assert "faceapp-cli models remove my_finetuned_gfpgan" in out

    entry = catalog.get_entry("my_finetuned_gfpgan")
    assert (entry.custom, entry.imported, entry.purpose) == (True, True, "face")
    assert (entry.arch, entry.input_size, entry.file_name) == ("GFPGAN", 512, mine.name)
    assert entry.display_name == "my_finetuned_gfpgan (custom, GFPGAN)"
    assert model_store.require_model(entry.id) == paths.models_dir() / mine.name
    assert 'arch = "GFPGAN"' in user_catalog_text() and "imported = true" in user_catalog_text()
    assert model_store.verify([entry.id]) == [(entry.id, True, "SHA-256 matches")]

    assert cli("list") == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith(entry.id)]
    assert "my_finetuned_gfpgan (custom, GFPGAN)" in line and " yes " in line

    assert cli("remove", entry.id) == 0
    assert entry.id not in {e.id for e in catalog.catalog()}
    assert models_folder_names() == ["hashes.json"] and mine.is_file()


@pytest.mark.shared
def test_an_official_id_still_refuses_another_file_unless_asked_for_custom(
    gfpgan_file: GoldenFile, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("import", str(gfpgan_file.path), "--as", "gfpgan-1.4") == 1
    err = capsys.readouterr().err
    assert "is not the file of GFPGAN v1.4" in err and "Nothing was imported" in err
    assert "--custom" in err
    assert models_folder_names() == [] and not catalog.user_catalog_path().exists()

    # Asked for, the same file is added as a model of one's own.
    assert cli("import", str(gfpgan_file.path), "--custom", "--name", "Grandma's GFPGAN") == 0
    entry = catalog.get_entry("grandma-s-gfpgan")
    assert entry.display_name == "Grandma's GFPGAN (custom, GFPGAN)"
    assert models_folder_names() == ["grandma-s-gfpgan.pth", "hashes.json"]


@pytest.mark.shared
def test_custom_imports_keep_the_users_own_catalog_entries() -> None:
    require_shared("weights", ANIME.name)
    # A hand-written entry of the same architecture, pinned to another file: not this one.
    hand_written = f'# my models\n{ANIME_CATALOG}sha256 = "{WRONG_SHA}"\n'
    write_user_catalog(hand_written.replace("realesr-animevideov3.pth", "a.pth"))
    hand_written = user_catalog_text()
    first, dest = model_store.import_model(ANIME)
    second, _ = model_store.import_model(ANIME, custom=True)
    assert (first.id, second.id) == ("realesr-animevideov3", "realesr-animevideov3-2")
    assert (first.arch, first.scale, first.purpose) == ("Compact", 4, "background")
    assert dest.name == "realesr-animevideov3.pth" and dest.read_bytes() == ANIME.read_bytes()
    assert user_catalog_text().startswith(hand_written)

    model_store.remove(first.id)
    model_store.remove(second.id)
    assert user_catalog_text().rstrip() == hand_written.rstrip()
    assert [e.id for e in catalog.catalog() if e.custom] == ["anime-x4"]


def test_custom_ids_avoid_every_catalog_id_and_file_name() -> None:
    assert catalog.free_id("GFPGANv1.4") == "gfpganv1.4-2"  # the official file, case aside
    assert catalog.free_id("CodeFormer") == "codeformer-2"
    assert catalog.free_id("  Grand-père's  photo!  ") == "grand-p-re-s-photo"
    assert catalog.free_id("mine", {"mine", "Mine-2"}) == "mine-3"
    assert catalog.free_id("???") == "custom"


def test_an_unsupported_file_is_not_added_as_custom(tmp_path: Path) -> None:
    junk = tmp_path / "holiday.pth"
    torch.save({"weight": torch.zeros(3)}, junk)
    with pytest.raises(ModelLoadError, match="holiday.pth"):
        model_store.import_model(junk, custom=True)
    assert not catalog.user_catalog_path().exists()
    assert models_folder_names() == []
