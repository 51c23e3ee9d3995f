"""LaMa and DDColor on the compiled runtime (OpenVINO, float32), against the official outputs
in ../shared/golden within the same tolerance as PyTorch.

LaMa's Fourier units (torch.fft.rfftn/irfftn) have no ONNX translation in the TorchScript
exporter, so LaMa reaches OpenVINO through OpenVINO's own PyTorch frontend; DDColor goes through
ONNX like the face models. Small FFT networks prove the road and its cancel cheaply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_golden
from test_golden_repair_colour import _assert_close, _ddcolor_file, _golden, _save_lightning
from test_runtime import _entries, counted_calls
from torch import nn

from faceapp.core.colour import colorize
from faceapp.core.errors import Cancelled
from faceapp.core.models.loading import InpaintModel, load_inpaint_model
from faceapp.core.progress import CancelToken, Progress
from faceapp.core.repair import inpaint, lama
from faceapp.core.runtime import onnx_export
from faceapp.core.runtime.compiled import (
    VIA_ONNX,
    Target,
    attach_inpaint_runtime,
    prepare,
    probe_mask,
)

pytest.importorskip("openvino")
pytest.importorskip("onnx")

CPU = Target("CPU", "exact")


@pytest.fixture(scope="module", autouse=True)
def _two_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the golden outputs were produced with 2 threads
    yield
    torch.set_num_threads(before)


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ONNX exports (each ONNX-road conversion does one)."""
    return counted_calls(monkeypatch, "export_onnx")


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the traces for OpenVINO's PyTorch frontend (each conversion on that road)."""
    return counted_calls(monkeypatch, "trace_torch")


class _Fourier(nn.Module):
    """A LaMa-like spectral block: a 1x1 convolution in the rfftn domain, 'ortho' norm."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, 2 * channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.rfftn(x, dim=(-2, -1), norm="ortho")
        stacked = torch.cat([spectrum.real, spectrum.imag], dim=1)
        real, imag = self.conv(stacked).chunk(2, dim=1)
        back = torch.fft.irfftn(torch.complex(real, imag), s=x.shape[-2:], norm="ortho")
        return x + back


def _fourier_lama(blocks: int = 1) -> InpaintModel:
    """An InpaintModel laid out as spandrel's LaMa (module.model.model ending in a sigmoid)."""
    torch.manual_seed(0)
    layers = [nn.Conv2d(4, 8, 3, padding=1), *[_Fourier(8) for _ in range(blocks)]]
    generator = nn.Module()
    generator.model = nn.Sequential(*layers, nn.Conv2d(8, 3, 1), nn.Sigmoid())
    module = nn.Module()
    module.model = generator
    return InpaintModel("LaMa", module.eval())


def _model_file(folder: Path, name: str = "lama.ckpt") -> Path:
    path = folder / name
    path.write_text(f"{name}: its contents only identify it for the cache")
    return path


def test_fft_network_takes_the_pytorch_frontend_road(
    tmp_path: Path, exports: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    model = _fourier_lama()
    path = _model_file(tmp_path)
    graph = onnx_export.InpaintGraph(model)
    inputs = (torch.zeros(1, 3, 32, 32), probe_mask(32))
    with caplog.at_level(logging.INFO, logger="faceapp"):  # what the ONNX road would do
        assert prepare(path, graph, inputs, "fft", CPU, (0.0, 1.0), via=VIA_ONNX) is None
    assert "fft_rfftn" in caplog.text and exports == [1]
    attach_inpaint_runtime(model, _model_file(tmp_path, "other.ckpt"), CPU, 32)
    assert model.runtime == "OpenVINO" and exports == [1]  # no ONNX export on this road
    x, mask = torch.rand(1, 3, 32, 32), probe_mask(32).flip(-1)
    with torch.inference_mode():
        compiled_logits = model.compiled.net.run_all(x.numpy(), mask.numpy())[1]
        logits = model.logits(x, mask).numpy()
        assert float(np.abs(compiled_logits - logits).max()) < 1e-4
        assert model.compiled(torch.zeros(1, 3, 40, 32), torch.zeros(1, 1, 40, 32)) is None


@pytest.mark.parametrize(
    ("output", "shift", "compiled"),
    [(0, 0.01, True), (0, 0.5, False), (1, 0.5, False)],
    ids=["composite-rounding", "composite-wrong", "logits-wrong"],
)
def test_lama_check_holds_the_logits_and_the_composite_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: int, shift: float, compiled: bool
) -> None:
    """Exact: the logits within the tolerance; the composite (their sigmoid, which magnifies
    rounding near 0) only as an 8-bit image."""
    from faceapp.core.runtime import openvino_runtime

    real = openvino_runtime.CompiledNet.run_all

    def shifted(self, *inputs):
        outputs = real(self, *inputs)
        outputs[output] = outputs[output] + shift
        return outputs

    monkeypatch.setattr(openvino_runtime.CompiledNet, "run_all", shifted)
    model = _fourier_lama()
    attach_inpaint_runtime(model, _model_file(tmp_path), CPU, 32)
    assert (model.compiled is not None) == compiled


def test_cancel_during_pytorch_frontend_conversion_leaves_no_entry(tmp_path: Path) -> None:
    cancel = CancelToken()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.fraction > 0:  # the trace is under way
            cancel.cancel()

    model = _fourier_lama(blocks=40)
    with pytest.raises(Cancelled):
        attach_inpaint_runtime(model, _model_file(tmp_path), CPU, 32, progress, cancel)
    assert seen[0].message.startswith("Preparing LaMa (lama.ckpt) for this computer — once")
    assert _entries() == [] and model.compiled is None


def test_lama_windows_have_one_shape_on_a_large_photo() -> None:
    """Every LaMa call on a photo at least a window large sees the compiled shape, edges too."""
    shapes: list[tuple[int, ...]] = []

    def compiled(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        shapes.append(tuple(x.shape))
        return mask * 0.25 + (1 - mask) * x

    model = _fourier_lama()
    model.compiled = compiled
    image = np.random.default_rng(0).random((1000, 900, 3), dtype=np.float32)
    mask = np.zeros((1000, 900), bool)
    mask[[5, 500, 995], :] = True  # every cell row, the far edges included
    out = inpaint.repair(image, mask, model)
    window = inpaint.LAMA_WINDOW
    assert len(shapes) == 4 and set(shapes) == {(1, 3, window, window)}
    np.testing.assert_array_equal(out[~mask], image[~mask])
    np.testing.assert_allclose(out[mask], 0.25)


def test_engine_gives_lama_its_compiled_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faceapp.core.runtime import engine as engine_module

    model = _fourier_lama()
    monkeypatch.setattr(engine_module, "load_inpaint_model", lambda _path: model)
    monkeypatch.setattr(engine_module, "LAMA_WINDOW", 32)  # the real 768 would take minutes
    path = _model_file(tmp_path)
    assert engine_module.Engine("cpu", "torch").inpainter(path).runtime == "PyTorch"
    engine = engine_module.Engine("cpu", "openvino")
    assert engine.inpainter(path, compiled=False).runtime == "PyTorch"  # a small photo
    assert engine.inpainter(path) is model and model.runtime == "OpenVINO"
    assert model.compiled.net.input_shape == (1, 3, 32, 32)


@pytest.mark.shared
def test_lama_golden_through_openvino(tmp_path: Path, exports: list[int]) -> None:
    sd, meta = load_golden("lama_big")
    path = tmp_path / "best.ckpt"
    _save_lightning(sd, path)
    del sd
    model = load_inpaint_model(path)
    attach_inpaint_runtime(model, path, CPU, 256)
    assert model.runtime == "OpenVINO" and exports == []
    x = _golden("lama_big", "input.npy")
    mask = _golden("lama_big", "mask.npy")
    composite, logits = model.compiled.net.run_all(x, mask)
    outputs = meta["outputs"]
    _assert_close(
        logits, _golden("lama_big", "output_logits.npy"), outputs["output_logits"]["suggested_atol"]
    )
    golden = _golden("lama_big", "output_inpainted.npy")
    atol = outputs["output_inpainted"]["suggested_atol"]
    _assert_close(composite, golden, atol)
    # the repair's own call goes through it (256 is a multiple of 8: no padding)
    image, flat_mask = x[0].transpose(1, 2, 0), mask[0, 0]
    out = lama.inpaint(model, image, flat_mask)
    _assert_close(out, golden[0].transpose(1, 2, 0), atol)
    kept = flat_mask == 0
    np.testing.assert_array_equal(out[kept], image[kept])  # the composite keeps the photo


@pytest.mark.shared
def test_ddcolor_golden_through_openvino(
    tmp_path: Path, exports: list[int], traces: list[int]
) -> None:
    """Through the PyTorch frontend (its conversion peaks about 2 GB lower than the ONNX
    export), converted once for its size."""
    from faceapp.core.runtime.engine import Engine

    path, meta = _ddcolor_file("ddcolor_paper_tiny", tmp_path)
    engine = Engine("cpu", "openvino")
    model = engine.colorizer(path, size=256)
    assert model.runtime == "OpenVINO" and (exports, traces) == ([], [1])
    with torch.inference_mode():
        ab = model(torch.from_numpy(_golden("ddcolor_paper_tiny", "input.npy")))
    expected = _golden("ddcolor_paper_tiny", "output.npy")
    _assert_close(ab, expected, meta["outputs"]["output"]["suggested_atol"])
    case = meta["pipeline"]["case_b"]
    bgr = colorize.from_uint8(_golden("ddcolor_paper_tiny", case["input_file"]))
    out = colorize.apply(colorize.predict(model, bgr, size=256), bgr, strength=1.0)
    golden = _golden("ddcolor_paper_tiny", case["output_file"])
    _assert_close(out, golden, case["suggested_atol"])
    official8 = (np.clip(golden, 0, 1) * 255.0).round().astype(np.uint8)
    assert np.abs(colorize.to_uint8(out).astype(int) - official8).max() <= 1
    assert engine.colorizer(path, size=256) is model and traces == [1]  # nothing converted again
