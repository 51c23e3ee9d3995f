"""Golden (pseudo-random, reproducible) weights for the benchmarks, written as real .pth files.

The real pretrained files cannot be downloaded here; ../shared/golden regenerates weights with the
official key layout from the key names alone, so both sides load the very same file.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEAPP_SHARED_DIR", REPO.parent / "shared"))
GOLDEN = SHARED / "golden"
# How the official downloads wrap their state dicts (RECIPE.md, "Real-checkpoint wrappers").
WRAPPERS = {"gfpgan_v1.4": "params_ema", "codeformer": "params_ema", "ddcolor_paper_tiny": "params"}


def golden_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The state dict of ../shared/golden/<name>, regenerated with the shared recipe."""
    folder = GOLDEN / name
    if not folder.is_dir():
        raise FileNotFoundError(f"needs {folder} (the ../shared data beside the repository)")
    spec = importlib.util.spec_from_file_location("regen_weights", GOLDEN / "regen_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    meta = json.loads((folder / "meta.json").read_text())
    keys = json.loads((folder / "keys.json").read_text())
    return module.regen(keys, meta["weights"]["scheme"])


def golden_file(name: str, folder: Path) -> Path:
    """A .pth in `folder` holding the golden weights, wrapped like the file users download."""
    path = folder / f"{name}.pth"
    if not path.exists():
        sd = golden_state_dict(name)
        wrapper = WRAPPERS.get(name)
        torch.save({wrapper: sd} if wrapper else sd, path)
    return path
