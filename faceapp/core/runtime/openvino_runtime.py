"""OpenVINO, reached lazily: the app starts and restores without it (PyTorch runs then).

A converted model is kept as OpenVINO IR (model.xml + model.bin) in the compiled-model cache;
compiling IR takes a second or two, so it is done at each load and not cached.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

EXACT = "exact"
FAST = "fast"
PRECISIONS = (EXACT, FAST)


@functools.cache
def _openvino():
    """The openvino module, or None when it is missing or broken (logged once)."""
    try:
        import openvino

        openvino.Core()
    except Exception as error:  # a broken install must not stop the app: PyTorch runs
        log.info("OpenVINO is not available, PyTorch runs every model (%s)", error)
        return None
    return openvino


def available() -> bool:
    return _openvino() is not None


def version() -> str | None:
    ov = _openvino()
    return ov.get_version().split("-")[0] if ov else None


@functools.cache
def _core():
    return _openvino().Core()


def devices() -> list[str]:
    """OpenVINO's devices: "CPU", and "GPU" (Intel graphics) / "NPU" where present."""
    return list(_core().available_devices) if available() else []


def has_bf16() -> bool:
    """Whether this CPU computes in bf16 natively (AMX or AVX-512 BF16)."""
    try:
        return "BF16" in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:
        return False


def precision_hint(precision: str, device: str = "CPU") -> str:
    """exact: float32 everywhere. fast: bf16 on CPUs that have it, fp16 on GPUs/NPUs."""
    if precision == EXACT:
        return "f32"
    if device == "CPU":
        return "bf16" if has_bf16() else "f32"
    return "f16"


def convert_onnx(onnx_path: Path, xml_path: Path) -> None:
    """ONNX file -> OpenVINO IR beside it, weights kept in float32."""
    ov = _openvino()
    model = ov.convert_model(str(onnx_path))
    ov.save_model(model, str(xml_path), compress_to_fp16=False)


def convert_torch(
    traced: torch.jit.ScriptModule, inputs: tuple[torch.Tensor, ...], xml_path: Path
) -> None:
    """A traced PyTorch module -> OpenVINO IR through OpenVINO's own PyTorch frontend, the
    shapes of `inputs` fixed: the road for ops the ONNX exporter lacks (LaMa's rfftn/irfftn,
    which opset 17's exporter refuses and OpenVINO's frontend maps to its RDFT/IRDFT)."""
    ov = _openvino()
    shapes = [ov.PartialShape(list(t.shape)) for t in inputs]
    model = ov.convert_model(traced, example_input=inputs, input=shapes)
    ov.save_model(model, str(xml_path), compress_to_fp16=False)


class CompiledNet:
    """A compiled model with one infer request; called from the inference thread only."""

    def __init__(self, xml_path: Path, device: str = "CPU", precision: str = EXACT) -> None:
        config = {"INFERENCE_PRECISION_HINT": precision_hint(precision, device)}
        if device == "CPU":
            config["INFERENCE_NUM_THREADS"] = torch.get_num_threads()
            config["PERFORMANCE_HINT"] = "LATENCY"
        self.compiled = _core().compile_model(str(xml_path), device, config)
        self.request = self.compiled.create_infer_request()
        dims = self.compiled.inputs[0].get_partial_shape()
        self.input_shape = tuple(d.get_length() if d.is_static else -1 for d in dims)
        self.device, self.precision = device, precision

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        """The first output (the image)."""
        return self.run_all(*inputs)[0]

    def run_all(self, *inputs: np.ndarray) -> list[np.ndarray]:
        result = self.request.infer([_c_float32(a) for a in inputs])
        return [np.array(result[output], copy=True) for output in self.compiled.outputs]


def _c_float32(array: np.ndarray) -> np.ndarray:
    """C-contiguous float32, 0-d arrays kept 0-d (np.ascontiguousarray makes them 1-d)."""
    array = np.asarray(array, np.float32)
    return array if array.flags.c_contiguous else array.copy()
