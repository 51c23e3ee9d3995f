"""The compiled runtime: conversion once per model file, the check, the fallback, cancel, and
the app without OpenVINO. Small networks keep it fast; the golden tests cover the real archs."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from faceapp.core.errors import Cancelled
from faceapp.core.models.loading import FaceModel
from faceapp.core.progress import CancelToken, Progress
from faceapp.core.runtime import compiled_cache, onnx_export
from faceapp.core.runtime.compiled import Target, attach_face_runtime, openvino_target

pytest.importorskip("openvino")
pytest.importorskip("onnx")

CPU = Target("CPU", "exact")
REPO = Path(__file__).resolve().parent.parent


class _TinyNet(nn.Module):
    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.PReLU(), nn.Conv2d(8, 3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.body(x) + x)


class _Unexportable(_TinyNet):
    """A network the ONNX exporter has no translation for (Bessel J0)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.special.bessel_j0(self.body(x))


class _WithFidelity(_TinyNet):
    """Called like CodeFormer: net(x, weight=w) -> (out, logits)."""

    def forward(self, x: torch.Tensor, weight: float | torch.Tensor = 0.5):
        y = self.body(x)
        return x + weight * y, y.mean(dim=(2, 3))


def _codeformer_like(module: nn.Module, x: torch.Tensor, fidelity: float) -> torch.Tensor:
    return module(x, weight=float(fidelity))[0]


def _plain(module: nn.Module, x: torch.Tensor, _fidelity: float) -> torch.Tensor:
    return module(x)


def _tiny_face(net: nn.Module | None = None) -> FaceModel:
    return FaceModel("Tiny", 32, (net or _TinyNet()).eval(), _plain)


def _model_file(folder: Path, seed: int = 0, name: str = "tiny.pth") -> Path:
    """A model file for the cache key (its contents only identify it here)."""
    path = folder / name
    torch.save(_TinyNet(seed).state_dict(), path)
    return path


def _entries() -> list[Path]:
    root = compiled_cache.compiled_dir()
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def counted_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """One entry per call of onnx_export's function `name` from now on (it still runs)."""
    calls: list[int] = []
    real = getattr(onnx_export, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(onnx_export, name, counting)
    return calls


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ONNX exports (each ONNX-road conversion does one)."""
    return counted_calls(monkeypatch, "export_onnx")


def test_compiled_model_runs_and_matches_torch(tmp_path: Path, exports: list[int]) -> None:
    face = _tiny_face()
    attach_face_runtime(face, _model_file(tmp_path), CPU)
    assert face.compiled is not None and face.runtime == "OpenVINO"
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.inference_mode():
        compiled, reference = face(x), face.module(x)
    assert compiled.shape == reference.shape
    assert float((compiled - reference).abs().max()) < 1e-5
    assert face.compiled(torch.zeros(1, 3, 64, 64), 0.5) is None  # other sizes: PyTorch
    assert exports == [1]


def test_fidelity_is_an_input_of_the_compiled_model(tmp_path: Path, exports: list[int]) -> None:
    face = FaceModel("Tiny", 32, _WithFidelity().eval(), _codeformer_like, has_fidelity=True)
    attach_face_runtime(face, _model_file(tmp_path), CPU)
    assert face.compiled is not None
    x = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        for fidelity in (0.0, 0.3, 1.0):
            reference = _codeformer_like(face.module, x, fidelity)
            assert float((face(x, fidelity) - reference).abs().max()) < 1e-5
    assert exports == [1]


def test_second_use_converts_nothing(tmp_path: Path, exports: list[int]) -> None:
    path = _model_file(tmp_path)
    attach_face_runtime(_tiny_face(), path, CPU)
    assert len(exports) == 1 and len(_entries()) == 1
    again = _tiny_face()
    attach_face_runtime(again, path, CPU)
    assert again.compiled is not None
    assert len(exports) == 1 and len(_entries()) == 1


def test_replaced_model_file_converts_again(tmp_path: Path, exports: list[int]) -> None:
    path = _model_file(tmp_path)
    attach_face_runtime(_tiny_face(), path, CPU)
    first = _entries()
    _model_file(tmp_path, seed=1)  # the same name, other weights
    attach_face_runtime(_tiny_face(_TinyNet(1)), path, CPU)
    assert len(exports) == 2
    assert _entries() != first and len(_entries()) == 1  # the replaced file's entry is gone


def test_removed_model_file_entry_is_pruned(tmp_path: Path, exports: list[int]) -> None:
    gone = _model_file(tmp_path, name="gone.pth")
    attach_face_runtime(_tiny_face(), gone, CPU)
    gone.unlink()
    attach_face_runtime(_tiny_face(_TinyNet(2)), _model_file(tmp_path, 2, "other.pth"), CPU)
    assert [compiled_cache.read_meta(e)["source"] for e in _entries()] == [
        str((tmp_path / "other.pth").resolve())
    ]


def test_cancel_during_conversion_leaves_no_cache_entry(tmp_path: Path) -> None:
    cancel = CancelToken()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.fraction > 0:  # the trace is under way
            cancel.cancel()

    face = _tiny_face(nn.Sequential(*[_TinyNet(i) for i in range(8)]))
    with pytest.raises(Cancelled):
        attach_face_runtime(face, _model_file(tmp_path), CPU, progress, cancel)
    assert seen[0].message.startswith("Preparing Tiny (tiny.pth) for this computer — once")
    assert _entries() == []  # neither an entry nor a half-written temporary folder
    assert face.compiled is None


def test_unconvertible_model_restores_through_pytorch_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, exports: list[int]
) -> None:
    path = _model_file(tmp_path)
    face = _tiny_face(_Unexportable())
    with caplog.at_level(logging.INFO, logger="faceapp"):
        attach_face_runtime(face, path, CPU)
    assert face.compiled is None and face.runtime == "PyTorch"
    assert "cannot be converted for OpenVINO, PyTorch runs it" in caplog.text
    x = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        np.testing.assert_array_equal(face(x).numpy(), face.module(x).numpy())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="faceapp"):
        attach_face_runtime(_tiny_face(_Unexportable()), path, CPU)  # remembered: no retry
    assert len(exports) == 1
    assert "OpenVINO could not convert it" in caplog.text


def test_compiled_model_beyond_tolerance_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from faceapp.core.runtime import openvino_runtime

    real = openvino_runtime.CompiledNet.run_all
    monkeypatch.setattr(
        openvino_runtime.CompiledNet, "run_all", lambda self, *a: [real(self, *a)[0] + 0.1]
    )
    face = _tiny_face()
    with caplog.at_level(logging.INFO, logger="faceapp"):
        attach_face_runtime(face, _model_file(tmp_path), CPU)
    assert face.compiled is None
    assert "beyond its tolerance; PyTorch runs it" in caplog.text


def test_gpu_devices_and_torch_runtime_stay_on_pytorch() -> None:
    assert openvino_target("torch", "exact", torch.device("cpu")) is None
    assert openvino_target("auto", "exact", torch.device("cuda")) is None
    assert openvino_target("auto", "fast", torch.device("cpu")) == Target("CPU", "fast")


@pytest.mark.shared
def test_app_restores_with_openvino_absent(golden_file, tmp_path: Path) -> None:
    """OpenVINO blocked from importing: the CLI still restores, on PyTorch, even when asked
    for OpenVINO."""
    import cv2

    crop = tmp_path / "face.png"
    cv2.imwrite(str(crop), np.full((256, 256, 3), 128, np.uint8))
    out = tmp_path / "out.png"
    code = (
        "import sys; sys.modules['openvino'] = None\n"
        "from faceapp.cli.main import main\n"
        f"args = ['restore', {str(crop)!r}, '--aligned', '--output', {str(out)!r},\n"
        f"        '--model-file', {str(golden_file('gpen_bfr_256'))!r}, '--runtime', 'openvino']\n"
        "code = main(args)\n"
        "assert 'openvino' not in sys.modules or sys.modules['openvino'] is None\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert out.exists()
    assert not (Path(compiled_cache.compiled_dir()) / "hashes.json").exists()


def test_runs_on_line_names_the_runtime() -> None:
    from faceapp.core.runtime.engine import Engine

    assert Engine("cpu", "openvino").device_name == "CPU — OpenVINO"
    assert Engine("cpu", "openvino", "fast").device_name == "CPU — OpenVINO, fast (approximate)"
    assert "OpenVINO" not in Engine("cpu", "torch").device_name
    with pytest.raises(ValueError, match="runtime"):
        Engine("cpu", "tensorrt")


def test_settings_keep_the_runtime_choice() -> None:
    from faceapp.settings import Settings, load_settings, save_settings, settings_from_dict

    save_settings(Settings(runtime="openvino", precision="fast", device="cpu"))
    loaded = load_settings()
    assert (loaded.runtime, loaded.precision) == ("openvino", "fast")
    odd = settings_from_dict({"schema_version": 2, "runtime": "cuda-graphs", "precision": 3})
    assert (odd.runtime, odd.precision) == ("auto", "exact")
    assert settings_from_dict({"schema_version": 1}).runtime == "auto"  # older files


def test_problem_report_names_openvino_and_its_version() -> None:
    import openvino

    from faceapp.diagnostics import system_report

    report = system_report("CPU — OpenVINO")
    assert "Device: CPU — OpenVINO" in report
    assert f"OpenVINO: {openvino.get_version().split('-')[0]}" in report


def test_cli_and_api_take_runtime_and_precision() -> None:
    import faceapp
    from faceapp.cli.main import build_parser

    args = build_parser().parse_args(
        ["restore", "a.jpg", "--runtime", "openvino", "--precision", "fast"]
    )
    assert (args.runtime, args.precision) == ("openvino", "fast")
    defaults = build_parser().parse_args(["restore", "a.jpg"])
    assert (defaults.runtime, defaults.precision) == ("auto", "exact")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["restore", "a.jpg", "--precision", "half"])
    with pytest.raises(ValueError, match="precision"):
        faceapp.restore(np.zeros((8, 8, 3), np.uint8), model_file="x.pth", precision="half")


def test_fast_beyond_its_tolerance_falls_back_to_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from faceapp.core.runtime import openvino_runtime

    real = openvino_runtime.CompiledNet.run_all

    def noisy_when_fast(self, *inputs):
        outputs = real(self, *inputs)
        return [outputs[0] + 0.5] if self.precision == "fast" else outputs

    monkeypatch.setattr(openvino_runtime.CompiledNet, "run_all", noisy_when_fast)
    face = _tiny_face()
    with caplog.at_level(logging.INFO, logger="faceapp"):
        attach_face_runtime(face, _model_file(tmp_path), Target("CPU", "fast"))
    assert face.compiled is not None and face.compiled.net.precision == "exact"
    assert "beyond its tolerance; exact precision runs" in caplog.text
