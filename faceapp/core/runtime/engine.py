"""The engine owns the device and the loaded models. One engine per inference thread."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from faceapp.core.background import UPSCALE_OVERLAP, UPSCALE_TILE
from faceapp.core.colour.colorize import DEFAULT_SIZE as COLORIZE_SIZE
from faceapp.core.errors import ModelLoadError
from faceapp.core.faces.detection import FaceDetector
from faceapp.core.faces.parsing import FaceParser, load_face_parser
from faceapp.core.models.loading import (
    ColorizeModel,
    FaceModel,
    InpaintModel,
    UpscaleModel,
    load_colorize_model,
    load_face_model,
    load_inpaint_model,
    load_upscale_model,
)
from faceapp.core.models.store import installed_path
from faceapp.core.progress import CancelToken, ProgressCallback, no_progress
from faceapp.core.repair.inpaint import LAMA_WINDOW
from faceapp.core.runtime.compiled import (
    AUTO,
    OPENVINO,
    Target,
    attach_colorize_runtime,
    attach_detector_runtime,
    attach_face_runtime,
    attach_inpaint_runtime,
    attach_parser_runtime,
    attach_upscale_runtime,
    check_choice,
    openvino_target,
)
from faceapp.core.runtime.device import INTEL_GPU, describe_device, intel_gpu_device, pick_device
from faceapp.core.runtime.openvino_runtime import EXACT

# The first one installed outlines the faces. BiSeNet first: on a CPU it takes ~0.2 s a face
# where ParseNet takes ~4 s, as long as GFPGAN itself.
PARSER_IDS = ("bisenet", "parsenet")

log = logging.getLogger(__name__)


class Engine:
    """Keeps the detector and the last face and background models resident on the device,
    so that a batch of photos, or a new strength, loads nothing twice."""

    def __init__(
        self, device: str | torch.device = "auto", runtime: str = AUTO, precision: str = EXACT
    ) -> None:
        if runtime == AUTO:  # FACEAPP_RUNTIME=torch: auto means PyTorch (tests, troubleshooting)
            runtime = os.environ.get("FACEAPP_RUNTIME", AUTO)
        check_choice(runtime, precision)
        self.ov_device = "CPU"
        if device == INTEL_GPU:  # OpenVINO on Intel graphics; PyTorch parts stay on the CPU
            self.ov_device, runtime = intel_gpu_device(), OPENVINO
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.runtime, self.precision = runtime, precision
        self._detector: FaceDetector | None = None
        self._face: tuple[Path, FaceModel] | None = None
        self._upscaler: tuple[Path, UpscaleModel] | None = None
        self._parser: tuple[tuple[Path, int], FaceParser | None] | None = None
        self._inpainter: tuple[Path, InpaintModel] | None = None
        self._inpainter_attached = False  # whether its compiled form was sought
        self._colorizer: tuple[Path, ColorizeModel] | None = None
        self._colorize_size: int | None = None  # the size its compiled form was built for

    @property
    def device_name(self) -> str:
        """The "Runs on" line: the device and the runtime of the face model ("CPU — OpenVINO");
        before a face model is loaded, the runtime it would get."""
        target = self._target()
        if self._face is not None and self._face[1].runtime == "PyTorch":
            target = None  # not converted, or failed its check: PyTorch runs it
        elif self._face is not None:  # fast may have fallen back to exact in its check
            target = Target(target.device, self._face[1].compiled.net.precision)
        if target is None:
            return describe_device(self.device)
        where = "Intel GPU" if target.device == "GPU" else "CPU"
        fast = ", fast (approximate)" if target.precision != EXACT else ""
        return f"{where} — OpenVINO{fast}"

    def _target(self) -> Target | None:
        return openvino_target(self.runtime, self.precision, self.device, self.ov_device)

    def detector(self) -> FaceDetector:
        if self._detector is None:
            self._detector = FaceDetector(device=self.device)
            attach_detector_runtime(self._detector, self._target())
        return self._detector

    def face_model(
        self,
        path: str | Path,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> FaceModel:
        """The model, on the runtime chosen for it; the first use of a file on a compiled
        runtime converts it once (with progress, cancellable)."""
        path = Path(path).resolve()
        if self._face is None or self._face[0] != path:
            self._face = None  # release the previous model before loading the next
            model = load_face_model(path).to(self.device)
            target = self._target()
            attach_face_runtime(model, path, target, progress, cancel)
            self._face = (path, model)
        return self._face[1]

    def upscaler(self, path: str | Path) -> UpscaleModel:
        path = Path(path).resolve()
        if self._upscaler is None or self._upscaler[0] != path:
            self._upscaler = None
            model = load_upscale_model(path).to(self.device)
            target = self._target()
            attach_upscale_runtime(model, path, target, UPSCALE_TILE + 2 * UPSCALE_OVERLAP)
            self._upscaler = (path, model)
        return self._upscaler[1]

    def inpainter(
        self,
        path: str | Path,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        compiled: bool = True,
    ) -> InpaintModel:
        """LaMa, compiled for repair's fixed window when the runtime allows (first use converts
        it once, with progress and cancel). compiled=False: not now (a photo smaller than the
        window, which would never use it, does not pay for the conversion)."""
        path = Path(path).resolve()
        if self._inpainter is None or self._inpainter[0] != path:
            self._inpainter = None
            self._inpainter = (path, load_inpaint_model(path).to(self.device))
            self._inpainter_attached = False
        model = self._inpainter[1]
        if compiled and not self._inpainter_attached:
            attach_inpaint_runtime(model, path, self._target(), LAMA_WINDOW, progress, cancel)
            self._inpainter_attached = True
        return model

    def colorizer(
        self,
        path: str | Path,
        size: int = COLORIZE_SIZE,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ColorizeModel:
        """DDColor, compiled for size x size when the runtime allows (once per file and size)."""
        path = Path(path).resolve()
        if self._colorizer is None or self._colorizer[0] != path:
            self._colorizer = None
            self._colorizer = (path, load_colorize_model(path).to(self.device))
            self._colorize_size = None
        model = self._colorizer[1]
        if self._colorize_size != size:
            attach_colorize_runtime(model, path, self._target(), size, progress, cancel)
            self._colorize_size = size
        return model

    def parser(self) -> FaceParser | None:
        """The installed face parser on the device, or None when there is none (the plain
        oval is used then). A file that cannot be loaded is logged, not raised: the mask is
        a refinement, and is not worth failing a restoration for."""
        path = next((p for p in map(installed_path, PARSER_IDS) if p is not None), None)
        if path is None:
            self._parser = None
            return None
        key = (path.resolve(), path.stat().st_mtime_ns)  # a replaced file is loaded again
        if self._parser is None or self._parser[0] != key:
            self._parser = None
            self._parser = (key, self._load_parser(path))
        return self._parser[1]

    def _load_parser(self, path: Path) -> FaceParser | None:
        try:
            parser = load_face_parser(path).to(self.device)
        except ModelLoadError as error:
            log.warning("Face parser not used, the plain oval mask is: %s", error)
            return None
        attach_parser_runtime(parser, path, self._target())
        return parser
