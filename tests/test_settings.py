"""Settings: round trip, defaults, broken files, per-field fallback, migrations, atomic saves."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from faceapp.core import paths
from faceapp.settings import (
    CURRENT_VERSION,
    EXPORT_FORMATS,
    MAX_RECENT,
    MIGRATIONS,
    ExportSettings,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
    settings_path,
)


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_round_trip_keeps_every_field() -> None:
    settings = Settings(
        face_model="codeformer",
        strength=0.25,
        fidelity=0.8,
        upscale=4,
        background="model",
        background_model="realesrgan_x4",
        export=ExportSettings(format="webp", quality=80, keep_metadata=False, destination="/o"),
        window_geometry="AdnQywADAAA=",
        window_state="AAAA/wAAAAD9",
        welcome_seen=True,
        device="cpu",
    )
    settings.add_recent("/photos/a.jpg")
    settings.add_recent("/photos/b.png")
    save_settings(settings)
    assert load_settings() == settings


def test_defaults_when_the_file_is_missing() -> None:
    assert not settings_path().exists()
    settings = load_settings()
    assert settings == Settings()
    assert settings.schema_version == CURRENT_VERSION
    assert settings.export.format == "auto" and settings.export.quality == 95


def test_settings_live_in_the_redirected_config_dir(isolated_user_dirs: Path) -> None:
    save_settings(Settings(strength=0.5))
    written = settings_path()
    assert written.is_file()
    assert written.parent == paths.config_dir()
    assert written.is_relative_to(isolated_user_dirs)
    assert not written.is_relative_to(Path.home())


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]", "\xff\xfe garbage"])
def test_a_broken_file_gives_defaults_and_is_kept(
    content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    raw = content.encode("latin-1")
    path.write_bytes(raw)
    with caplog.at_level(logging.WARNING, logger="faceapp.settings"):
        assert load_settings() == Settings()
    broken = path.with_name("settings.json.broken")
    assert broken.read_bytes() == raw
    assert not path.exists()
    assert any("settings.json.broken" in r.getMessage() for r in caplog.records)


def test_unknown_keys_are_ignored() -> None:
    _write(settings_path(), {"schema_version": 2, "strength": 0.3, "sparkles": True})
    settings = load_settings()
    assert settings.strength == 0.3
    assert not hasattr(settings, "sparkles")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("strength", 1.5),
        ("strength", "high"),
        ("strength", True),
        ("fidelity", -0.1),
        ("upscale", 8),
        ("upscale", 2.0),
        ("background", "sharpen"),
        ("device", "tpu"),
        ("welcome_seen", 1),
        ("face_model", 3),
        ("recent_files", "a.jpg"),
        ("window_geometry", ["x"]),
    ],
)
def test_a_wrong_value_falls_back_alone(key: str, value: object) -> None:
    _write(settings_path(), {"schema_version": 2, "fidelity": 0.9, "upscale": 2, key: value})
    settings = load_settings()
    assert getattr(settings, key) == getattr(Settings(), key)
    if key != "fidelity":
        assert settings.fidelity == 0.9
    if key != "upscale":
        assert settings.upscale == 2


@pytest.mark.parametrize(("value", "ok"), [(0, False), (1, True), (100, True), (101, False)])
def test_export_quality_range(value: int, ok: bool) -> None:
    _write(settings_path(), {"export": {"quality": value, "format": "png"}})
    export = load_settings().export
    assert export.quality == (value if ok else 95)
    assert export.format == "png"


@pytest.mark.parametrize(("written", "read"), [("same", "auto"), ("JPEG", "jpg"), ("tif", "tiff")])
def test_export_format_aliases(written: str, read: str) -> None:
    _write(settings_path(), {"export": {"format": written}})
    assert load_settings().export.format == read


def test_export_formats_match_the_image_writer() -> None:
    from faceapp.core.photo.writing import FORMATS, SaveOptions

    assert set(EXPORT_FORMATS) == set(FORMATS)
    for fmt in EXPORT_FORMATS:  # every value settings accept is one the writer accepts
        assert SaveOptions(format=fmt).format == fmt


def test_version_1_is_migrated() -> None:
    v1 = {
        "schema_version": 1,
        "model": "gfpgan_v1.4",
        "jpeg_quality": 80,
        "output_folder": "/out",
        "strength": 0.7,
    }
    _write(settings_path(), v1)
    settings = load_settings()
    assert settings.face_model == "gfpgan_v1.4"
    assert settings.export.quality == 80
    assert settings.export.destination == "/out"
    assert settings.strength == 0.7
    assert settings.schema_version == CURRENT_VERSION
    assert len(MIGRATIONS) == CURRENT_VERSION - 1


def test_a_file_without_version_is_read_as_version_1() -> None:
    _write(settings_path(), {"model": "codeformer"})
    assert load_settings().face_model == "codeformer"


def test_a_newer_version_is_read_as_far_as_it_fits() -> None:
    newer = {
        "schema_version": CURRENT_VERSION + 5,
        "strength": 0.4,
        "model": "not-a-v1-file",
        "export": {"quality": 70, "hdr": True},
        "future_thing": {"x": 1},
    }
    _write(settings_path(), newer)
    settings = load_settings()
    assert settings.strength == 0.4
    assert settings.export.quality == 70
    assert settings.face_model is None  # no v1 migration ran on a newer file
    save_settings(settings)  # and what is written back is a file this version reads
    assert json.loads(settings_path().read_text())["schema_version"] == CURRENT_VERSION


def test_recent_files_dedup_and_limit() -> None:
    settings = Settings()
    for i in range(MAX_RECENT + 3):
        settings.add_recent(f"/p/{i}.jpg")
    settings.add_recent(Path("/p/5.jpg"))
    assert settings.recent_files[0] == "/p/5.jpg"
    assert len(settings.recent_files) == MAX_RECENT
    assert settings.recent_files.count("/p/5.jpg") == 1
    assert settings.recent_files[1] == f"/p/{MAX_RECENT + 2}.jpg"


def test_recent_files_from_a_file_are_cleaned() -> None:
    listed = ["/a.jpg", 3, "/b.jpg", "/a.jpg", *[f"/{i}.png" for i in range(20)]]
    _write(settings_path(), {"recent_files": listed})
    recent = load_settings().recent_files
    assert recent[:2] == ["/a.jpg", "/b.jpg"]
    assert len(recent) == MAX_RECENT


def test_save_creates_the_folder_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "settings.json"
    save_settings(Settings(upscale=3), target)
    assert load_settings(target).upscale == 3
    assert sorted(p.name for p in target.parent.iterdir()) == ["settings.json"]


def test_a_failed_save_keeps_the_previous_file(monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(strength=0.2))
    before = settings_path().read_bytes()

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:  # not monkeypatch.undo(): that drops the tmp dirs too
        patch.setattr(os, "replace", refuse)
        with pytest.raises(SettingsError, match="No space left"):
            save_settings(Settings(strength=0.9))
    assert settings_path().read_bytes() == before
    assert [p.name for p in settings_path().parent.iterdir()] == ["settings.json"]
    assert load_settings().strength == 0.2
