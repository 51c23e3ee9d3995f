"""Choosing the device the models run on, and describing it in plain words."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(preference: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then the CPU. A named device that is missing is an error."""
    preference = preference.lower()
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
