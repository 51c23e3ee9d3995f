"""GPEN-BFR re-implementation against the official golden vectors (../shared/golden/gpen_bfr_*)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_golden, require_shared

from faceapp.core.models.archs.gpen import (
    GPEN,
    build_gpen,
    gpen_config_from_state_dict,
    looks_like_gpen,
)

CONFIG_KEYS = ("size", "style_dim", "n_mlp", "channel_multiplier", "narrow")


def _expected_config(meta: dict) -> dict:
    return {key: meta["config"][key] for key in CONFIG_KEYS}


@pytest.mark.shared
@pytest.mark.parametrize(
    "name", ["gpen_bfr_256", pytest.param("gpen_bfr_512", marks=pytest.mark.slow)]
)
def test_matches_official_output(name: str) -> None:
    sd, meta = load_golden(name)
    folder = require_shared("golden", name)
    assert gpen_config_from_state_dict(sd) == _expected_config(meta)
    model = build_gpen(sd)
    assert not model.training

    x = torch.from_numpy(np.load(folder / meta["input"]["file"]))
    spec = meta["outputs"]["output"]
    golden = np.load(folder / spec["file"])
    with torch.inference_mode():
        out = model(x).numpy()

    assert out.shape == golden.shape
    assert np.abs(out - golden).max() <= spec["suggested_atol"]


@pytest.mark.shared
@pytest.mark.parametrize("name", ["gpen_bfr_1024", "gpen_bfr_2048"])
def test_large_models_load_strictly(name: str) -> None:
    sd, meta = load_golden(name)
    assert looks_like_gpen(sd)
    assert gpen_config_from_state_dict(sd) == _expected_config(meta)
    model = build_gpen(sd)  # strict load; no forward pass (too slow on CPU)
    assert model.size == meta["config"]["size"]
    loaded = model.state_dict()
    assert list(loaded) == list(sd)
    assert torch.equal(loaded["final_linear.0.weight"], sd["final_linear.0.weight"])


def test_rejects_non_gpen_state_dict() -> None:
    sd = {"conv_first.weight": torch.zeros(64, 3, 3, 3), "conv_first.bias": torch.zeros(64)}
    assert not looks_like_gpen(sd)
    with pytest.raises(ValueError, match="not a GPEN"):
        gpen_config_from_state_dict(sd)
    with pytest.raises(ValueError):
        build_gpen(sd)


def test_rejects_inconsistent_gpen_state_dict() -> None:
    sd = GPEN(64, style_dim=32, n_mlp=2, channel_multiplier=1, narrow=1 / 16).state_dict()
    del sd["generator.to_rgbs.1.bias"]
    assert looks_like_gpen(sd)
    with pytest.raises(ValueError, match="missing"):
        gpen_config_from_state_dict(sd)


def test_small_model_round_trip_and_batching() -> None:
    torch.manual_seed(0)
    config = {"size": 64, "style_dim": 32, "n_mlp": 2, "channel_multiplier": 1, "narrow": 0.0625}
    reference = GPEN(**config).eval()
    with torch.no_grad():
        for name, param in reference.named_parameters():
            if name.endswith("noise.weight"):
                param.fill_(0.7)  # zero by default, which would hide the encoder features
    sd = reference.state_dict()
    assert gpen_config_from_state_dict(sd) == config

    model = build_gpen(sd)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        both = model(x)
        single = torch.cat([model(x[:1]), model(x[1:])])
        expected = reference(x)
    assert both.shape == (2, 3, 64, 64)
    torch.testing.assert_close(both, single, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(both, expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match="expects"):
        model(torch.zeros(1, 3, 32, 32))
