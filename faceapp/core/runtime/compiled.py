"""Choosing the runtime of a model and preparing its compiled form: convert once, check, use.

PyTorch is the reference. With runtime "auto" or "openvino" on the CPU, a model is exported to
ONNX with a fixed input shape (or, for LaMa, whose FFTs the ONNX exporter refuses, traced by
OpenVINO's own PyTorch frontend), converted to OpenVINO IR and cached (compiled_cache); before the
compiled model is used, it runs beside PyTorch on a probe input, and beyond the tolerance it is
not used (PyTorch runs, and the log says why). The verdict is kept with the cache entry, per
device and precision, so that the check runs once.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from faceapp.core.errors import Cancelled
from faceapp.core.faces.detection import FaceDetector
from faceapp.core.faces.parsing import PARSE_SIZE, FaceParser
from faceapp.core.models.loading import ColorizeModel, FaceModel, InpaintModel, UpscaleModel
from faceapp.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from faceapp.core.runtime import compiled_cache, openvino_runtime
from faceapp.core.runtime.openvino_runtime import EXACT, PRECISIONS, CompiledNet

AUTO, TORCH, OPENVINO = "auto", "torch", "openvino"
VIA_ONNX, VIA_PYTORCH = "onnx", "pytorch"  # the road into OpenVINO: our ONNX export or its frontend
RUNTIMES = (AUTO, TORCH, OPENVINO)
EXACT_RTOL = 2e-3  # max |compiled - torch| <= EXACT_RTOL * max(1, max |torch|)
FAST_MIN_PSNR = 35.0  # dB, the 8-bit image of a fast (bf16/fp16) output against float32
SECONDS_PER_MPARAM = 1.0  # first-use estimate before this computer has converted anything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where a compiled model would run: OpenVINO device and precision."""

    device: str  # "CPU", "GPU" (Intel graphics)
    precision: str  # "exact" or "fast"

    @property
    def tag(self) -> str:
        return f"{self.device}-{self.precision}"


def check_choice(runtime: str, precision: str) -> None:
    if runtime not in RUNTIMES:
        raise ValueError(f"Unknown runtime '{runtime}': choose one of {', '.join(RUNTIMES)}.")
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision '{precision}': choose exact or fast.")


def openvino_target(
    runtime: str, precision: str, device: torch.device, ov_device: str = "CPU"
) -> Target | None:
    """The OpenVINO target for this choice, or None when PyTorch runs (CUDA/MPS stay on
    PyTorch; OpenVINO missing means PyTorch, logged once by openvino_runtime)."""
    if runtime == TORCH or device.type != "cpu":
        if runtime == OPENVINO and device.type != "cpu":
            log.info("OpenVINO runs on the CPU or Intel GPUs; on %s PyTorch runs", device.type)
        return None
    if not openvino_runtime.available():
        return None
    return Target(ov_device, precision)


@dataclass
class Prepared:
    net: CompiledNet
    deviation: float  # of the self-check, on the output's own scale
    psnr: float  # dB, the 8-bit image against PyTorch's


def prepare(
    source: Path,
    graph: nn.Module,
    inputs: tuple[Tensor, ...],
    label: str,
    target: Target,
    image_range: tuple[float, float],
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    any_size: bool = False,
    via: str = VIA_ONNX,
    output_range: tuple[float, float] | None = None,
    exact_outputs: tuple[int, ...] | None = None,
) -> Prepared | None:
    """The compiled `graph` for `inputs`' shape (any height and width with any_size; checked
    at the given one), converted once per model file, or None when it cannot be converted or
    fails its check (logged; the caller keeps PyTorch). output_range: the scale of the first
    output for the fast check's PSNR, when it is not the input's (DDColor's a/b).
    exact_outputs: the outputs held to the exact tolerance (default: all)."""
    shape = tuple(inputs[0].shape)
    key = compiled_cache.EntryKey(
        compiled_cache.file_sha256(source),
        f"openvino-{openvino_runtime.version()}",
        (*shape[:2], -1, -1) if any_size else shape,
    )
    folder = compiled_cache.lookup(key)
    converted = folder is None
    if converted:
        folder = _convert(key, source, graph, inputs, label, progress, cancel, any_size, via)
    meta = compiled_cache.read_meta(folder)
    if meta.get("failed"):
        log.info("%s runs on PyTorch: OpenVINO could not convert it (%s)", label, meta["failed"])
        return None
    ranges = (image_range, output_range or image_range, exact_outputs)
    prepared = _checked(folder, meta, graph, inputs, label, target, ranges)
    if converted:
        release_freed_memory()
    return prepared


def release_freed_memory() -> None:
    """Give the memory a conversion freed back to the system (glibc keeps it otherwise): on a
    24 MP scan the first-use peak drops by about 200 MB. A no-op where there is no glibc."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _convert(key, source, graph, inputs, label, progress, cancel, any_size, via) -> Path:
    estimate = _estimate_seconds(graph)
    message = f"Preparing {label} for this computer — once, about {estimate} s"
    log.info(message)
    progress(Progress("prepare", 0.0, message))

    def on_export(done: float) -> None:
        progress(Progress("prepare", 0.8 * done, message))

    def build(folder: Path) -> dict:
        started = time.perf_counter()
        from faceapp.core.runtime.onnx_export import export_onnx, trace_torch

        if via == VIA_PYTORCH:
            traced = trace_torch(graph, inputs, on_export, cancel)
            progress(Progress("prepare", 0.85, message))
            openvino_runtime.convert_torch(traced, inputs, folder / "model.xml")
        else:
            export_onnx(graph, inputs, folder / "model.onnx", on_export, cancel, any_size)
            _raise_if_cancelled(cancel)
            progress(Progress("prepare", 0.85, message))
            openvino_runtime.convert_onnx(folder / "model.onnx", folder / "model.xml")
            (folder / "model.onnx").unlink()
        _raise_if_cancelled(cancel)
        progress(Progress("prepare", 1.0, message))
        return {"label": label, "convert_s": round(time.perf_counter() - started, 1)}

    try:
        return compiled_cache.store(key, source, build)
    except (Cancelled, KeyboardInterrupt):
        raise
    except Exception as error:  # any exporter/converter failure: remembered, PyTorch runs
        _raise_if_cancelled(cancel)  # a converter may wrap the Cancelled raised in its trace
        log.warning("%s cannot be converted for OpenVINO, PyTorch runs it: %s", label, error)
        reason = f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
        return compiled_cache.store(key, source, lambda _folder: {"failed": reason})


def _checked(folder, meta, graph, inputs, label, target: Target, ranges) -> Prepared | None:
    try:
        net = CompiledNet(folder / "model.xml", target.device, target.precision)
    except Exception as error:
        log.warning("%s: OpenVINO could not compile it, PyTorch runs it: %s", label, error)
        return None
    checks = dict(meta.get("checks", {}))
    verdict = checks.get(target.tag)
    if verdict is None:
        try:
            verdict = self_check(net, graph, inputs, target.precision, *ranges)
        except Exception as error:  # a compiled model that cannot even run is not used
            log.warning("%s: the OpenVINO model failed to run, PyTorch runs it: %s", label, error)
            return None
        checks[target.tag] = verdict
        compiled_cache.update_meta(folder, checks=checks)
    if not verdict["passed"]:
        fallback = "exact precision runs" if target.precision != EXACT else "PyTorch runs it"
        log.warning(
            "%s: the OpenVINO %s result is %.3g away from PyTorch's (PSNR %.1f dB), beyond its "
            "tolerance; %s",
            label,
            target.precision,
            verdict["deviation"],
            verdict["psnr"],
            fallback,
        )
        if target.precision != EXACT:  # too approximate: the exact compiled model may do
            exact = Target(target.device, EXACT)
            return _checked(
                folder, compiled_cache.read_meta(folder), graph, inputs, label, exact, ranges
            )
        return None
    log.info("%s runs on OpenVINO %s (%s)", label, target.device, target.precision)
    return Prepared(net, verdict["deviation"], verdict["psnr"])


def self_check(
    net: CompiledNet,
    graph: nn.Module,
    inputs: tuple[Tensor, ...],
    precision: str,
    image_range: tuple[float, float],
    output_range: tuple[float, float] | None = None,
    exact_outputs: tuple[int, ...] | None = None,
) -> dict:
    """Compiled against PyTorch on a smooth pseudo-random probe of the input's shape (the
    other inputs as given: LaMa's mask). Exact: each of `exact_outputs` (default all) within
    EXACT_RTOL of its own scale, and a first output left out of them still at the fast PSNR;
    fast: the first output's 8-bit PSNR."""
    probe = (probe_input(inputs[0].shape, image_range), *inputs[1:])
    with torch.inference_mode():
        reference = graph(*probe)
    references = [r.float().numpy() for r in _as_tuple(reference)]
    outputs = net.run_all(*(t.numpy() for t in probe))
    picked = range(len(outputs)) if exact_outputs is None else exact_outputs
    outputs_, references_ = [outputs[i] for i in picked], [references[i] for i in picked]
    deviations = [float(np.abs(o - r).max()) for o, r in zip(outputs_, references_, strict=True)]
    deviation = max(deviations)
    psnr = image_psnr(outputs[0], references[0], output_range or image_range)
    if precision == EXACT:  # every output (CodeFormer's logits, the detector's three)
        limits = [EXACT_RTOL * max(1.0, float(np.abs(r).max())) for r in references_]
        passed = all(d <= limit for d, limit in zip(deviations, limits, strict=True))
        passed = passed and (0 in picked or psnr >= FAST_MIN_PSNR)
    else:
        passed = psnr >= FAST_MIN_PSNR
    return {"passed": bool(passed), "deviation": deviation, "psnr": round(psnr, 2)}


def _as_tuple(output: Tensor | tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    return tuple(output) if isinstance(output, (tuple, list)) else (output,)


def probe_input(shape: tuple[int, ...], image_range: tuple[float, float]) -> Tensor:
    """Deterministic, image-like (smooth) input: coarse noise upsampled, in the model's range."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand((*shape[:2], 16, 16), generator=generator)
    smooth = torch.nn.functional.interpolate(coarse, size=tuple(shape[2:]), mode="bicubic")
    low, high = image_range
    return (smooth.clamp(0, 1) * (high - low) + low).contiguous()


def image_psnr(a: np.ndarray, b: np.ndarray, image_range: tuple[float, float]) -> float:
    """PSNR in dB of the two outputs as 8-bit images (clamped to the image range)."""
    low, high = image_range

    def to_8bit(x: np.ndarray) -> np.ndarray:
        return np.round(np.clip((x - low) / (high - low), 0, 1) * 255)

    mse = float(np.mean((to_8bit(a) - to_8bit(b)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _estimate_seconds(graph: nn.Module) -> int:
    mparams = sum(p.numel() for p in graph.parameters()) / 1e6
    return max(5, round(SECONDS_PER_MPARAM * mparams / 5) * 5)


def _raise_if_cancelled(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


# ---------------------------------------------------------------------------------------------
# The models faceapp runs


def attach_face_runtime(
    face: FaceModel,
    source: Path,
    target: Target | None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    size: int | None = None,
) -> None:
    """Give `face` its compiled forward for `size` (default: its own input size) when
    `target` allows and the conversion and check succeed; otherwise it stays on PyTorch."""
    face.compiled = None
    if target is None:
        return
    from faceapp.core.runtime.onnx_export import FaceGraph, face_inputs

    label = f"{face.arch} ({source.name})"
    graph = FaceGraph(face)
    inputs = face_inputs(face, size or face.input_size)
    prepared = prepare(source, graph, inputs, label, target, (-1.0, 1.0), progress, cancel)
    if prepared is not None:
        face.compiled = CompiledFace(prepared.net, face.has_fidelity)


def attach_upscale_runtime(
    model: UpscaleModel,
    source: Path,
    target: Target | None,
    tile: int,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> None:
    """Give `model` a compiled forward for tile x tile patches (the interior tiles; the smaller
    ones at the photo's edges run on PyTorch)."""
    model.compiled = None
    if target is None:
        return
    from faceapp.core.runtime.onnx_export import UpscaleGraph

    label = f"{model.arch} x{model.scale} ({source.name})"
    inputs = (torch.zeros(1, 3, tile, tile),)
    graph = UpscaleGraph(model)
    prepared = prepare(source, graph, inputs, label, target, (0.0, 1.0), progress, cancel)
    if prepared is not None:
        model.compiled = CompiledImage(prepared.net)


class CompiledFace:
    """A FaceModel's compiled forward: (N, 3, S, S) faces one at a time through the fixed
    batch-1 shape; None for a shape it was not compiled for (PyTorch runs those)."""

    runtime = "OpenVINO"

    def __init__(self, net: CompiledNet, has_fidelity: bool) -> None:
        self.net, self.has_fidelity = net, has_fidelity

    def __call__(self, x: Tensor, fidelity: float) -> Tensor | None:
        if x.device.type != "cpu" or tuple(x.shape[1:]) != self.net.input_shape[1:]:
            return None
        extra = (np.array(fidelity, np.float32),) if self.has_fidelity else ()
        faces = [self.net(x[i : i + 1].float().numpy(), *extra) for i in range(x.shape[0])]
        return torch.from_numpy(np.concatenate(faces)).to(x.dtype)


def attach_parser_runtime(
    parser: FaceParser, source: Path, target: Target | None, size: int = PARSE_SIZE
) -> None:
    """Give a face parser a compiled forward for size x size crops (converted once; a few
    seconds for BiSeNet), else it stays on PyTorch."""
    parser.compiled = None
    if target is None:
        return
    from faceapp.core.runtime.onnx_export import ParserGraph

    label = f"{parser.arch} ({source.name})"
    inputs = (torch.zeros(1, 3, size, size),)
    prepared = prepare(source, ParserGraph(parser), inputs, label, target, (-2.5, 2.5))
    if prepared is not None:
        parser.compiled = CompiledImage(prepared.net)


def attach_detector_runtime(detector: FaceDetector, target: Target | None) -> None:
    """Give the face detector a compiled forward for images of any size (its pyramid)."""
    detector.compiled = None
    if target is None or detector.device.type != "cpu":
        return
    from faceapp.core.runtime.onnx_export import DetectorGraph

    label = f"the face detector ({detector.weights.name})"
    inputs = (torch.zeros(1, 3, 320, 320),)
    graph = DetectorGraph(detector.net)
    # BGR minus the mean: about -123..151
    prepared = prepare(
        detector.weights, graph, inputs, label, target, (-123.0, 151.0), any_size=True
    )
    if prepared is not None:
        detector.compiled = CompiledOutputs(prepared.net)


def attach_inpaint_runtime(
    model: InpaintModel,
    source: Path,
    target: Target | None,
    size: int,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> None:
    """Give LaMa a compiled forward for size x size cells (repair's full-size windows; smaller
    ones, at most one photo under `size` a side, run on PyTorch). Its FFTs take the
    PyTorch-frontend road (see onnx_export)."""
    model.compiled = None
    if target is None:
        return
    from faceapp.core.runtime.onnx_export import InpaintGraph

    label = f"{model.arch} ({source.name})"
    inputs = (torch.zeros(1, 3, size, size), probe_mask(size))
    graph = InpaintGraph(model)
    road = {"via": VIA_PYTORCH, "exact_outputs": (1,)}  # the logits; see LAMA_CHECK
    prepared = prepare(source, graph, inputs, label, target, (0.0, 1.0), progress, cancel, **road)
    if prepared is not None:
        model.compiled = CompiledInpaint(prepared.net)


# LAMA_CHECK: LaMa's exact check holds its logits, not its composite, to EXACT_RTOL of their
# scale. The composite is their sigmoid: where a logit sits near 0, a rounding-sized error of a
# large-scaled logit moves it visibly. On the golden (pseudo-random) weights at 768² (logits
# span ±1e4) a check of every output refused LaMa: the composite beyond 2e-3 at an 8-bit PSNR
# of 99 dB, the logits 0.046 off. PyTorch itself moves the composite by 9e-4 between 1 and 2
# threads (golden meta). So the composite is held to the fast PSNR instead.


def probe_mask(size: int) -> Tensor:
    """A fixed damage-like 0/1 mask for LaMa's check: thin lines, a crack, a blob (about 3 %);
    an empty mask would make the composite equal the input and prove nothing."""
    mask = torch.zeros(1, 1, size, size)
    step = max(1, size // 8)
    for i, width in enumerate((1, 2, 4)):
        mask[..., (i + 2) * step : (i + 2) * step + width, :] = 1  # scratches across
    mask[..., :, 5 * step : 5 * step + 3] = 1  # a crack down
    mask[..., 6 * step : 7 * step, step : 2 * step] = 1  # a blob
    return mask


# OpenCV's float Lab a/b span about -127..127: the scale of DDColor's output for the PSNR check
AB_RANGE = (-128.0, 128.0)


def attach_colorize_runtime(
    model: ColorizeModel,
    source: Path,
    target: Target | None,
    size: int,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> None:
    """Give DDColor a compiled forward at its size x size input (converted once per size)."""
    model.compiled = None
    if target is None:
        return
    from faceapp.core.runtime.onnx_export import ColorizeGraph

    label = f"{model.variant} ({source.name})"
    inputs, graph = (torch.zeros(1, 3, size, size),), ColorizeGraph(model)
    # OpenVINO's PyTorch frontend, not ONNX: the ONNX export of DDColor peaks about 2 GB
    # higher (4.2 GB against 2.3 GB for the tiny model at 512), too much beside a 24 MP scan
    prepared = prepare(
        source,
        graph,
        inputs,
        label,
        target,
        (0.0, 1.0),
        progress,
        cancel,
        via=VIA_PYTORCH,
        output_range=AB_RANGE,
    )
    if prepared is not None:
        model.compiled = CompiledImage(prepared.net)


class CompiledInpaint:
    """LaMa's compiled composite for its one (1, 3, S, S) shape; None for any other."""

    runtime = "OpenVINO"

    def __init__(self, net: CompiledNet) -> None:
        self.net = net

    def __call__(self, x: Tensor, mask: Tensor) -> Tensor | None:
        if x.device.type != "cpu" or tuple(x.shape) != self.net.input_shape:
            return None
        out = self.net(x.float().numpy(), mask.float().numpy())
        return torch.from_numpy(out).to(x.dtype)


class CompiledOutputs:
    """Every output of a compiled model of any input size, as tensors."""

    runtime = "OpenVINO"

    def __init__(self, net: CompiledNet) -> None:
        self.net = net

    def __call__(self, x: Tensor) -> tuple[Tensor, ...] | None:
        if x.device.type != "cpu":
            return None
        return tuple(torch.from_numpy(o) for o in self.net.run_all(x.float().numpy()))


class CompiledImage:
    """An image-to-image compiled forward (upscalers): None for shapes it was not built for."""

    runtime = "OpenVINO"

    def __init__(self, net: CompiledNet) -> None:
        self.net = net

    def __call__(self, x: Tensor) -> Tensor | None:
        if x.device.type != "cpu" or tuple(x.shape[1:]) != self.net.input_shape[1:]:
            return None
        outputs = [self.net(x[i : i + 1].float().numpy()) for i in range(x.shape[0])]
        return torch.from_numpy(np.concatenate(outputs)).to(x.dtype)
