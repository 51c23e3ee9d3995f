"""RestoreFormer / RestoreFormer++ port against the official golden vectors in ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_golden, require_shared

from faceapp.core.models.archs.restoreformer_pp import (
    RestoreFormerPP,
    build_restoreformer,
    looks_like_restoreformer_pp,
    restoreformer_config_from_state_dict,
    unwrap_restoreformer_checkpoint,
)

MODELS = ("restoreformer_pp", "restoreformer")


def _golden_array(name: str, file: str) -> np.ndarray:
    return np.load(require_shared("golden", name, file))


def _meta_state_dict(name: str) -> tuple[dict[str, torch.Tensor], list, dict]:
    """Shape-only ("meta" device) state dict from keys.json, plus the raw key list and meta."""
    folder: Path = require_shared("golden", name)
    keys = json.loads((folder / "keys.json").read_text())
    meta = json.loads((folder / "meta.json").read_text())
    sd = {
        k: torch.empty(shape, dtype=getattr(torch, dtype), device="meta")
        for k, shape, dtype in keys
    }
    return sd, keys, meta


@pytest.fixture(scope="module")
def rfpp_golden() -> tuple[dict, dict]:
    """RF++ golden (state_dict, meta), shared by the tests that need the full weights."""
    return load_golden("restoreformer_pp")


@pytest.mark.shared
@pytest.mark.parametrize("name", MODELS)
def test_key_layout_and_config(name: str) -> None:
    sd, keys, meta = _meta_state_dict(name)
    config = restoreformer_config_from_state_dict(sd)
    for field, value in meta["config"].items():
        if field in config:
            expected = tuple(value) if isinstance(value, list) else value
            assert config[field] == expected, field
    assert looks_like_restoreformer_pp(sd) is (name == "restoreformer_pp")
    with torch.device("meta"):
        model = RestoreFormerPP(**config)
    mine = [
        [k, list(v.shape), str(v.dtype).removeprefix("torch.")]
        for k, v in model.state_dict().items()
    ]
    assert mine == keys


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_matches_official_golden(name: str, rfpp_golden: tuple[dict, dict]) -> None:
    sd, meta = rfpp_golden if name == "restoreformer_pp" else load_golden(name)
    model = build_restoreformer(sd)
    x = torch.from_numpy(_golden_array(name, "input.npy"))
    with torch.inference_mode():
        dec, indices = model.forward_with_indices(x)
    golden = _golden_array(name, "output.npy")
    atol = meta["outputs"]["output"]["suggested_atol"]
    assert dec.shape == golden.shape
    assert np.abs(dec.numpy() - golden).max() <= atol
    assert indices.dtype == torch.int64
    np.testing.assert_array_equal(indices.numpy(), _golden_array(name, "vq_idx.npy"))


@pytest.mark.shared
@pytest.mark.slow
def test_lightning_checkpoint_roundtrip(tmp_path: Path, rfpp_golden: tuple[dict, dict]) -> None:
    rfpp_state_dict = rfpp_golden[0]
    wrapped = {
        "state_dict": {
            **{"vqvae." + k: v for k, v in rfpp_state_dict.items()},
            "discriminator.main.0.weight": torch.zeros(4, 3, 4, 4),
            "loss.logvar": torch.zeros(()),
        },
        "epoch": 3,
    }
    path = tmp_path / "last.ckpt"
    torch.save(wrapped, path)
    loaded = torch.load(path, weights_only=True)
    assert looks_like_restoreformer_pp(loaded)
    bare = unwrap_restoreformer_checkpoint(loaded)
    assert list(bare) == list(rfpp_state_dict)
    reloaded = build_restoreformer(bare)
    direct = build_restoreformer(rfpp_state_dict)
    x = torch.from_numpy(_golden_array("restoreformer_pp", "input.npy"))[:, :, 192:320, 192:320]
    with torch.inference_mode():
        expected, expected_idx = direct.forward_with_indices(x)
        got, got_idx = reloaded.forward_with_indices(x)
    assert torch.equal(got, expected)
    assert torch.equal(got_idx, expected_idx)


def test_unwrap_keeps_bare_dicts() -> None:
    sd = {"encoder.conv_in.weight": torch.zeros(1)}
    assert unwrap_restoreformer_checkpoint(sd) == sd
    assert unwrap_restoreformer_checkpoint({"state_dict": sd, "epoch": 1}) == sd


def test_rejects_other_architectures() -> None:
    foreign = {
        "conv_first.weight": torch.zeros(64, 3, 3, 3),
        "conv_first.bias": torch.zeros(64),
        "quantize.embedding.weight": torch.zeros(1024, 256),
    }
    with pytest.raises(ValueError, match="RestoreFormer"):
        restoreformer_config_from_state_dict(foreign)
    with pytest.raises(ValueError, match="RestoreFormer"):
        build_restoreformer({"params_ema": foreign})
    assert not looks_like_restoreformer_pp(foreign)
    with pytest.raises(ValueError):
        unwrap_restoreformer_checkpoint([1, 2, 3])  # type: ignore[arg-type]


def test_small_config_runs_and_checks_input_size() -> None:
    torch.manual_seed(0)
    model = RestoreFormerPP(
        ch=32, ch_mult=(1, 2), attn_resolutions=(256,), z_channels=32, embed_dim=32, n_embed=8
    ).eval()
    with torch.inference_mode():
        dec, indices = model.forward_with_indices(torch.rand(2, 3, 16, 8) * 2 - 1)
        assert dec.shape == (2, 3, 16, 8)
        assert indices.shape == (2 * 8 * 4, 1)
        with pytest.raises(ValueError, match="multiples of 2"):
            model(torch.zeros(1, 3, 9, 8))
