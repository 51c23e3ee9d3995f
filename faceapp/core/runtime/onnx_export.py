"""Exporting a loaded model to an ONNX file with a fixed input shape, the road into OpenVINO.

The export traces the network once with the TorchScript exporter (no onnxscript needed). Two
arch details stand in its way and are worked around here, in our code, not in spandrel's:
- CodeFormer looks its fusion blocks up by `str(x.shape[-1])`; while tracing, a shape is a
  tensor, so the key reads "tensor(32)". Its ModuleDict is given a class that reads such keys.
- CodeFormer skips fusion by `if weight > 0`; fidelity is exported as an input, the fusion
  always runs, and at fidelity 0 it adds exactly 0 * (finite) = 0, so the output is unchanged.
Progress and cancel: every submodule call during the trace ticks a counter, and a cancel raises
from inside the trace, so that a conversion stops within a fraction of a second.
LaMa's graph is defined here too but is not exported to ONNX: the TorchScript exporter has no
translation of aten::fft_rfftn at opset 17 (measured). It is traced here (trace_torch, with the
same ticking) and the traced module goes to OpenVINO's PyTorch frontend. Tracing it ourselves
also matters for time: handing the hooked module to openvino.convert_model with fixed shapes
took 30-60 s for LaMa at 256², tracing first then converting 11 s.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import Tensor, nn

from faceapp.core.models.loading import (
    ColorizeModel,
    FaceModel,
    InpaintModel,
    UpscaleModel,
    composite,
)
from faceapp.core.progress import CancelToken

OPSET = 17
_TRACED_KEY = re.compile(r"tensor\((\d+)\)")


class _ShapeKeyedDict(nn.ModuleDict):
    """A ModuleDict that also answers to the key "tensor(32)" for "32" (see the module doc)."""

    def __getitem__(self, key: str) -> nn.Module:
        match = _TRACED_KEY.fullmatch(key) if isinstance(key, str) else None
        return super().__getitem__(match.group(1) if match else key)


class FaceGraph(nn.Module):
    """What is exported for a face model: x (and fidelity for CodeFormer) -> restored x."""

    def __init__(self, face: FaceModel) -> None:
        super().__init__()
        self.face = face
        self.net = face.module

    def forward(self, x: Tensor, fidelity: Tensor | None = None) -> Tensor | tuple[Tensor, ...]:
        if self.face.has_fidelity:  # CodeFormer: (out, logits); the logits make the codes checkable
            return tuple(self.net(x, weight=fidelity)[:2])
        return self.face.call(self.net, x, 0.0)


class UpscaleGraph(nn.Module):
    def __init__(self, model: UpscaleModel) -> None:
        super().__init__()
        self.net = model.module

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).clamp(0, 1)


class ParserGraph(nn.Module):
    def __init__(self, parser) -> None:  # a faces.parsing.FaceParser
        super().__init__()
        self.parser = parser
        self.net = parser.module

    def forward(self, x: Tensor) -> Tensor:
        return self.parser.logits(x)


class InpaintGraph(nn.Module):
    """LaMa: (image, 0/1 mask) -> (the composite, the pre-sigmoid logits). The logits keep the
    check meaningful where the sigmoid saturates (golden weights: almost everywhere)."""

    def __init__(self, model: InpaintModel) -> None:
        super().__init__()
        self.model = model
        self.net = model.module

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.model.logits(x, mask)
        return composite(x, mask, logits), logits


class ColorizeGraph(nn.Module):
    """DDColor: grey RGB (1, 3, S, S) -> Lab a/b (1, 2, S, S)."""

    def __init__(self, model: ColorizeModel) -> None:
        super().__init__()
        self.net = model.module

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def face_inputs(face: FaceModel, size: int, batch: int = 1) -> tuple[Tensor, ...]:
    """Example inputs for the export: the face, and fidelity as a 0-d tensor when it has one."""
    x = torch.zeros(batch, 3, size, size)
    return (x, torch.tensor(0.5)) if face.has_fidelity else (x,)


class DetectorGraph(nn.Module):
    """RetinaFace: x (BGR minus the mean, any size) -> (loc, conf, landms)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return tuple(self.net(x))


def export_onnx(
    graph: nn.Module,
    inputs: tuple[Tensor, ...],
    target: Path,
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    any_size: bool = False,
) -> None:
    """Write `graph` traced on `inputs` to `target` (the caller makes the write atomic).
    any_size: the height and width stay dynamic (the detector's pyramid)."""
    names = ["x", "fidelity"][: len(inputs)]
    dynamic = {"x": {2: "height", 3: "width"}} if any_size else None
    with _traceable(graph), ticking(graph, on_progress, cancel), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python bools from tensors
        torch.onnx.export(
            graph.eval(),
            inputs,
            str(target),
            opset_version=OPSET,
            dynamo=False,
            input_names=names,
            output_names=None,
            do_constant_folding=True,
            dynamic_axes=dynamic,
        )


def trace_torch(
    graph: nn.Module,
    inputs: tuple[Tensor, ...],
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
) -> torch.jit.ScriptModule:
    """`graph` traced on `inputs` (TorchScript), for OpenVINO's PyTorch frontend."""
    with ticking(graph, on_progress, cancel), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python bools from tensors
        return torch.jit.trace(graph.eval(), inputs, check_trace=False)


@contextlib.contextmanager
def _traceable(graph: nn.Module) -> Iterator[None]:
    """Swap CodeFormer-style shape-keyed ModuleDicts to _ShapeKeyedDict while exporting."""
    swapped = [m for m in graph.modules() if type(m) is nn.ModuleDict]
    for module in swapped:
        module.__class__ = _ShapeKeyedDict
    try:
        yield
    finally:
        for module in swapped:
            module.__class__ = nn.ModuleDict


@contextlib.contextmanager
def ticking(
    graph: nn.Module, on_progress: Callable[[float], None] | None, cancel: CancelToken | None
) -> Iterator[None]:
    """Report the trace's progress by submodule calls (one forward pass calls each about once)
    and stop it when cancelled."""
    total = max(1, sum(1 for _ in graph.modules()))
    seen = [0]

    def tick(_module: nn.Module, _args: object) -> None:
        if cancel is not None:
            cancel.raise_if_cancelled()
        seen[0] += 1
        if on_progress is not None and seen[0] % 16 == 0:
            on_progress(min(1.0, seen[0] / total))

    handles = [m.register_forward_pre_hook(tick) for m in graph.modules()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
