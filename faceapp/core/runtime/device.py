"""Choosing the device the models run on, and describing it in plain words."""

from __future__ import annotations

import torch

INTEL_GPU = "intel-gpu"  # through OpenVINO only
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps", INTEL_GPU)


def pick_device(preference: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then the CPU. A named device that is missing is an error.
    intel-gpu: PyTorch's share of the work stays on the CPU (see intel_gpu_device)."""
    preference = preference.lower()
    if preference == INTEL_GPU:
        intel_gpu_device()
        return torch.device("cpu")
    if preference not in DEVICE_CHOICES:
        raise ValueError(
            f"Unknown device '{preference}': choose one of {', '.join(DEVICE_CHOICES)}."
        )
    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ValueError("No CUDA GPU is available on this computer; use --device cpu.")
        return torch.device("cuda")
    if preference == "mps" or (preference == "auto" and _mps_available()):
        if not _mps_available():
            raise ValueError("Apple MPS is not available on this computer; use --device cpu.")
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU: Apple (MPS)"
    return "CPU — slower"


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def free_device_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def intel_gpu_device() -> str:
    """OpenVINO's name for the Intel GPU, or a clear error when it sees none."""
    from faceapp.core.runtime import openvino_runtime

    if "GPU" not in openvino_runtime.devices():
        raise ValueError("OpenVINO sees no Intel GPU on this computer; use --device cpu.")
    return "GPU"


def device_choices() -> tuple[str, ...]:
    """The devices to offer: Intel GPU only where OpenVINO sees one."""
    from faceapp.core.runtime import openvino_runtime

    offered = DEVICE_CHOICES[:-1]
    return (*offered, INTEL_GPU) if "GPU" in openvino_runtime.devices() else offered
