"""faceapp-cli end to end: golden models at image level, and every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path, require_shared
from PIL import Image

from faceapp.cli import main

pytestmark = pytest.mark.shared


def _golden_png(name: str, tmp_path: Path) -> Path:
    x = np.load(require_shared("golden", name, "input.npy"))[0]
    pixels = np.round((x.transpose(1, 2, 0) + 1) / 2 * 255).astype(np.uint8)
    path = tmp_path / f"{name}_input.png"
    Image.fromarray(pixels).save(path)
    return path


def _official_8bit(name: str, output: str) -> np.ndarray:
    y = np.load(require_shared("golden", name, f"{output}.npy"))[0].transpose(1, 2, 0)
    return np.round((np.clip(y, -1, 1) + 1) / 2 * 255)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "output", "fidelity"),
    [
        ("gfpgan_v1.4", "output", "0.5"),
        ("codeformer", "output_w0.5", "0.5"),
        ("codeformer", "output_w1.0", "1"),
        ("gpen_bfr_256", "output", "0.5"),
        ("gpen_bfr_512", "output", "0.5"),
        ("restoreformer", "output", "0.5"),
        ("restoreformer_pp", "output", "0.5"),
    ],
)
def test_aligned_restore_matches_the_official_output(
    tmp_path: Path, golden_file, name: str, output: str, fidelity: str
) -> None:
    image = _golden_png(name, tmp_path)
    out = tmp_path / "out.png"
    code = main(
        [
            "restore",
            str(image),
            "--aligned",
            "--strength",
            "1",
            "--fidelity",
            fidelity,
            "--model-file",
            str(golden_file(name)),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    ours = np.asarray(Image.open(out).convert("RGB")).astype(float)
    assert np.abs(ours - _official_8bit(name, output)).max() <= 1


@pytest.mark.slow
def test_hifacegan_aligned_restore_is_the_official_output_every_time(
    tmp_path: Path, golden_file
) -> None:
    """HiFaceGAN reads RGB in [0, 1]; its golden input is 8-bit RGB / 255, so the 8-bit PNG of it
    is the very input of the official output. The same face twice in one run goes through the
    same loaded network twice: the official train-mode network would drift on the second."""
    x = np.load(require_shared("golden", "hifacegan", "input.npy"))[0].transpose(1, 2, 0)
    pixels = np.round(x * 255).astype(np.uint8)
    assert np.abs(pixels / 255 - x).max() < 1e-6
    image = tmp_path / "face.png"
    Image.fromarray(pixels).save(image)
    args = ["restore", str(image), str(image), "--aligned", "--strength", "1", "-o"]
    assert main([*args, str(tmp_path / "out"), "--model-file", str(golden_file("hifacegan"))]) == 0
    first, second = (
        np.asarray(Image.open(p).convert("RGB")) for p in sorted((tmp_path / "out").iterdir())
    )
    y = np.load(require_shared("golden", "hifacegan", "output.npy"))[0].transpose(1, 2, 0)
    official = np.round(np.clip(y, 0, 1) * 255)  # the writer keeps the [0, 1] part
    assert np.array_equal(first, second)
    assert np.abs(first.astype(float) - official).max() <= 1


def test_detect_json(capsys: pytest.CaptureFixture) -> None:
    image = photo_path("group_photos", "dlib__2008_002506.jpg")
    assert main(["detect", "--json", str(image)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report[0]["faces"]) == 3
    assert len(report[0]["faces"][0]["landmarks"]) == 5


@pytest.mark.slow
def test_restore_writes_next_to_the_input_and_never_overwrites(tmp_path: Path, golden_file):
    source = photo_path("misc_faces", "spandrel__lr-face.jpg")
    image = tmp_path / "grand-mère.jpg"
    image.write_bytes(source.read_bytes())
    args = ["restore", str(image), "--model-file", str(golden_file("gfpgan_v1.4"))]
    assert main(args) == 0
    assert main(args) == 0
    assert (tmp_path / "grand-mère_restored.jpg").exists()
    assert (tmp_path / "grand-mère_restored-2.jpg").exists()
    assert image.read_bytes() == source.read_bytes()


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    good = photo_path("misc_faces", "spandrel__lr-face.jpg").read_bytes()
    files = {
        "empty.jpg": b"",
        "truncated.jpg": good[: len(good) // 3],
        "notes.jpg": b"this is not an image\n" * 10,
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    huge = tmp_path / "huge.png"
    Image.new("L", (1, 1)).save(huge)
    data = bytearray(huge.read_bytes())
    data[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")  # IHDR size
    huge.write_bytes(bytes(data))
    paths["huge.png"] = huge
    return paths


def test_bad_inputs_fail_clearly_and_the_others_still_run(tmp_path: Path, capsys) -> None:
    bad = _bad_inputs(tmp_path)
    before = {p: p.read_bytes() for p in bad.values()}
    good = photo_path("misc_faces", "spandrel__lr-face.jpg")
    out = tmp_path / "out"
    model = require_shared("weights", "realesr-animevideov3.pth")
    code = main(
        ["restore", *map(str, bad.values()), str(good), "-o", str(out), "--model-file", str(model)]
    )
    # the model file is a background upscaler: refused before any input is read
    assert code == 1
    assert "not a face restoration model" in capsys.readouterr().err
    code = main(["detect", *map(str, bad.values()), str(good)])
    captured = capsys.readouterr()
    assert code == 1
    lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(lines) == len(bad)
    assert "Traceback" not in captured.err
    assert "1 face" in captured.out  # the good photo was still processed
    assert all(p.read_bytes() == before[p] for p in bad.values())


def test_unwritable_output_folder_leaves_nothing(tmp_path: Path, golden_file, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    image = photo_path("old_photos", "old_w_scratch__b.png")
    code = main(
        [
            "restore",
            str(image),
            "-o",
            str(blocker / "sub"),
            "--faces",
            "largest",
            "--model-file",
            str(golden_file("gfpgan_v1.4")),
        ]
    )
    assert code == 1
    assert "error:" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["restore", "a.jpg", "--strength", "3"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["restore", "a.jpg", "--bg", "none", "--upscale", "2", "--model-file", "x.pth"])
    assert exit_info.value.code == 2


def test_missing_default_model_says_how_to_get_it(tmp_path: Path, capsys) -> None:
    image = photo_path("old_photos", "old_w_scratch__b.png")
    assert main(["restore", str(image), "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "models download" in err
    assert list(tmp_path.iterdir()) == []


def test_module_entry_point_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "faceapp.cli", "restore", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    for option in ("--model-file", "--fidelity", "--aligned", "--bg-model", "--overwrite"):
        assert option in done.stdout
