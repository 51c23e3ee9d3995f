"""Throwaway user folders for benchmarks and scripts (imports nothing heavy: memory.py's parent
process must stay small)."""

from __future__ import annotations

from pathlib import Path


def user_dirs_env(root: Path) -> dict[str, str]:
    """FACEAPP_*_DIR variables putting faceapp's models, config, data, log and cache inside
    `root`: a benchmark neither sees the user's installed models nor leaves anything behind."""
    names = ("MODELS", "CONFIG", "DATA", "LOG", "CACHE")
    return {f"FACEAPP_{name}_DIR": str(Path(root) / name.lower()) for name in names}
