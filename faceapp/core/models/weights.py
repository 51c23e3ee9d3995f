"""The one gateway through which every weight file is read.

Files come from the internet: loading must never execute code. `.safetensors` files are read
with safetensors; everything else with `torch.load(weights_only=True)`, which only rebuilds
tensors and plain containers and refuses any other pickled object.

One exception is allow-listed: PyTorch Lightning checkpoints (LaMa's `best.ckpt`) pickle their
training callbacks by class name. Those names, and only those, are mapped to an inert local
placeholder that merely stores what it is given: Lightning is never imported, nothing is called.
"""

from __future__ import annotations

import pickle
import pickletools
import threading
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from faceapp.core.errors import ModelLoadError, UnsafeModelError

StateDict = dict[str, torch.Tensor]

_WRAPPER_KEYS = ("params_ema", "params", "state_dict", "model", "net", "g_ema")


def load_checkpoint(path: str | Path) -> Any:
    """Read a checkpoint file safely; the raw object (usually a dict) is returned."""
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() == ".safetensors":
        return _load_safetensors(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if _asks_for_code(str(error), path):
            return _load_with_placeholders(path, error)
        raise _damaged(path) from error
    except Exception as error:  # noqa: BLE001 - garbage input raises all sorts of errors
        raise _damaged(path) from error


# Globals a training framework pickles as metadata (never needed to rebuild the weights).
_METADATA_PREFIXES = ("pytorch_lightning.", "lightning.pytorch.")
_placeholder_lock = threading.Lock()  # safe_globals changes process-wide state


class _InertMetadata:
    """Stands in for a pickled training-metadata class: keeps its arguments, runs nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _InertMetadata:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs, self.state = args, kwargs, None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _load_with_placeholders(path: Path, error: pickle.UnpicklingError) -> Any:
    """Load a checkpoint whose only extra globals are allow-listed metadata classes."""
    needed = _globals_in(path)
    refused = [name for name in needed if not name.startswith(_METADATA_PREFIXES)]
    if not needed or refused:
        asks = f" (it asks for {', '.join(refused[:4])})" if refused else ""
        raise UnsafeModelError(
            f"'{path.name}' contains program code or objects that could run code when "
            f"loaded{asks}; faceapp refuses to open it. Use the official file of the model."
        ) from error
    aliases = [(_InertMetadata, name) for name in needed]
    try:
        with _placeholder_lock, torch.serialization.safe_globals(aliases):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as second:  # noqa: BLE001 - e.g. a placeholder used as a dict
        raise UnsafeModelError(
            f"'{path.name}' holds objects faceapp cannot read without running code; "
            "it refuses to open it. Use the official file of the model."
        ) from second


def _globals_in(path: Path) -> list[str]:
    """The names of the non-default globals a torch file refers to (read, never imported)."""
    try:
        return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # noqa: BLE001 - a legacy (non-zip) pickle: no list; refuse it
        return []


def load_state_dict(path: str | Path) -> StateDict:
    """A flat tensor dict from a checkpoint, with the usual wrappers removed."""
    return unwrap_state_dict(load_checkpoint(path), name=Path(path).name)


def unwrap_state_dict(obj: Any, name: str = "the file") -> StateDict:
    """Strip the wrappers real checkpoints use: params_ema/params, state_dict, `module.`."""
    for _ in range(3):
        if not isinstance(obj, Mapping):
            break
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None or _is_tensor_dict(obj):
            break
        obj = inner
    if not isinstance(obj, Mapping) or not _is_tensor_dict(obj):
        raise ModelLoadError(f"'{name}' holds no model weights that faceapp can read.")
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


_CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE"}


def _asks_for_code(message: str, path: Path) -> bool:
    """Whether a file refused by the weights-only unpickler wanted to import or call anything.

    Every refusal mentions weights_only, so the message alone cannot tell a malicious pickle
    from a damaged download; for plain pickles the opcode stream is read (never executed).
    """
    if "Unsupported global" in message or "GLOBAL" in message:
        return True
    if zipfile.is_zipfile(path):
        return False
    try:
        with path.open("rb") as stream:
            return any(op.name in _CODE_OPCODES for op, _, _ in pickletools.genops(stream))
    except Exception:  # noqa: BLE001 - not even a pickle: damaged, not malicious
        return False


def _is_tensor_dict(obj: Mapping) -> bool:
    values = list(obj.values())
    return bool(values) and sum(isinstance(v, torch.Tensor) for v in values) >= len(values) / 2


def _load_safetensors(path: Path) -> StateDict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise _damaged(path) from error


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ModelLoadError(f"The model file '{path}' does not exist.")
    if not path.is_file():
        raise ModelLoadError(f"'{path}' is a folder, not a model file.")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"The model file '{path.name}' is empty.")


def _damaged(path: Path) -> ModelLoadError:
    return ModelLoadError(
        f"'{path.name}' is not a model file faceapp can read, or it is damaged "
        "(an incomplete download?)."
    )
