"""The engine owns the device and the loaded models. One engine per inference thread."""

from __future__ import annotations

from pathlib import Path

import torch

from faceapp.core.detection import FaceDetector
from faceapp.core.device import describe_device, pick_device
from faceapp.core.models import FaceModel, UpscaleModel, load_face_model, load_upscale_model


class Engine:
    """Keeps the detector and the last face and background models resident on the device,
    so that a batch of photos, or a new strength, loads nothing twice."""

    def __init__(self, device: str | torch.device = "auto") -> None:
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self._detector: FaceDetector | None = None
        self._face: tuple[Path, FaceModel] | None = None
        self._upscaler: tuple[Path, UpscaleModel] | None = None

    @property
    def device_name(self) -> str:
        return describe_device(self.device)

    def detector(self) -> FaceDetector:
        if self._detector is None:
            self._detector = FaceDetector(device=self.device)
        return self._detector

    def face_model(self, path: str | Path) -> FaceModel:
        path = Path(path).resolve()
        if self._face is None or self._face[0] != path:
            self._face = None  # release the previous model before loading the next
            self._face = (path, load_face_model(path).to(self.device))
        return self._face[1]

    def upscaler(self, path: str | Path) -> UpscaleModel:
        path = Path(path).resolve()
        if self._upscaler is None or self._upscaler[0] != path:
            self._upscaler = None
            self._upscaler = (path, load_upscale_model(path).to(self.device))
        return self._upscaler[1]
