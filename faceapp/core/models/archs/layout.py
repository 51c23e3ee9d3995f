"""Checking a state dict against the layout of the module built from its inferred config."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor


def check_layout(
    sd: Mapping[str, Tensor], reference: Mapping[str, Tensor], arch: str, config: dict
) -> None:
    """Raise ValueError unless ``sd`` has exactly the keys and shapes of ``reference``."""
    missing = sorted(set(reference) - set(sd))
    unexpected = sorted(set(sd) - set(reference))
    wrong = [
        f"{key}: {tuple(sd[key].shape)} != {tuple(t.shape)}"
        for key, t in reference.items()
        if key in sd and tuple(sd[key].shape) != tuple(t.shape)
    ]
    if missing or unexpected or wrong:
        raise ValueError(
            f"{arch} state dict does not match the inferred config {config}: "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}, wrong shapes {wrong[:5]}"
        )
