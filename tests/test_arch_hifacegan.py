"""HiFaceGAN (released LIPSPADEGenerator) against the official golden vectors, and its rules:
train-mode maths without state, faces independent of their batch, recognition of the family."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_golden, require_shared
from torch import nn

from faceapp.core.errors import UnsupportedModelError
from faceapp.core.models.archs.hifacegan import (
    FaceNorm,
    HiFaceGAN,
    SpectralConv2d,
    build_hifacegan,
    hifacegan_config_from_state_dict,
    looks_like_hifacegan_family,
)
from faceapp.core.models.loading import load_face_model

SMALL_NGF = 4  # the same layout at 1/12 of the width: fast enough for unit tests


@pytest.mark.shared
@pytest.mark.slow
def test_matches_official_output_and_keeps_its_weights() -> None:
    sd, meta = load_golden("hifacegan")
    folder = require_shared("golden", "hifacegan")
    keys = [key for key, _shape, _dtype in json.loads((folder / "keys.json").read_text())]
    assert hifacegan_config_from_state_dict(sd) == {"ngf": 48, "lip_encoder": True}
    assert meta["config"]["ngf"] == 48 and meta["config"]["netG"] == "lipspade"
    model = build_hifacegan(sd)
    assert list(model.state_dict()) == keys  # the official layout, key for key, in order
    x = torch.from_numpy(np.load(folder / meta["input"]["file"]))
    spec = meta["outputs"]["output"]
    with torch.inference_mode():
        out = model(x).numpy()
    assert np.abs(out - np.load(folder / spec["file"])).max() <= spec["suggested_atol"]
    for key, value in model.state_dict().items():  # nothing written back (the official u is)
        assert torch.equal(value, sd[key]), key


def _small_model(seed: int = 0) -> HiFaceGAN:
    torch.manual_seed(seed)
    return HiFaceGAN(ngf=SMALL_NGF).eval()


def test_same_input_same_pixels_in_any_mode_and_faces_independent_of_their_batch() -> None:
    model = _small_model()
    faces = torch.rand(2, 3, 64, 64)  # any multiple of 32 runs; 512 is slow here
    with torch.inference_mode():
        first = model(faces[:1])
        again = model.train()(faces[:1])  # train mode is what the official inference uses
        both = model.eval()(faces)
        second = model(faces[1:])
    assert torch.equal(first, again)
    torch.testing.assert_close(both[:1], first, rtol=0, atol=1e-5)
    torch.testing.assert_close(both[1:], second, rtol=0, atol=1e-5)
    assert (first - second).abs().mean() > 1e-3  # different faces, different results


def test_spectral_conv_is_torchs_first_train_mode_step_without_its_update() -> None:
    torch.manual_seed(1)
    ours = SpectralConv2d(6, 5, 3)
    official = nn.utils.spectral_norm(nn.Conv2d(6, 5, 3, padding=1))
    official.load_state_dict(ours.state_dict())
    u_before = ours.weight_u.clone()
    x = torch.randn(2, 6, 9, 9)
    with torch.no_grad():
        expected = official.train()(x)  # one power iteration, then u is overwritten
        got = ours(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    assert not torch.equal(official.weight_u, u_before)
    assert torch.equal(ours.weight_u, u_before)


def test_face_norm_is_train_mode_batch_norm_of_one_face() -> None:
    x = torch.randn(1, 7, 11, 13) * 3 + 2
    batch_norm = nn.BatchNorm2d(7, affine=False).train()
    torch.testing.assert_close(FaceNorm(7)(x), batch_norm(x), rtol=1e-5, atol=1e-5)


def test_rejects_sizes_the_encoder_cannot_halve_five_times() -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        _small_model()(torch.zeros(1, 3, 80, 80))


# ------------------------------------------------------------------------------ recognition


def _layout(ngf: int = SMALL_NGF) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return HiFaceGAN(ngf=ngf).state_dict()


@pytest.mark.parametrize("ngf", [SMALL_NGF, 48, 64])
def test_width_is_read_from_the_file(ngf: int) -> None:
    sd = _layout(ngf)
    assert looks_like_hifacegan_family(sd)
    assert hifacegan_config_from_state_dict(sd) == {"ngf": ngf, "lip_encoder": True}


def test_plain_spade_generator_runs_with_its_fc_encoder() -> None:
    """Face-Renovation's SPADEGenerator (one user reported the x4sr file to be one) encodes
    the face shrunk 32 times with `fc` instead of the LIP encoder."""
    model = _small_model()
    sd = _spade_generator(model.state_dict())
    assert hifacegan_config_from_state_dict(sd) == {"ngf": SMALL_NGF, "lip_encoder": False}
    spade = build_hifacegan(sd)
    assert spade.lip_encoder is None
    assert all(torch.equal(v, sd[k]) for k, v in spade.state_dict().items())
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        out = spade(x)
    assert out.shape == x.shape and out.abs().max() <= 1


def _basicsr(sd: dict) -> dict:
    return {k.replace("G_middle_", "g_middle_"): v for k, v in sd.items()}


def _paper_generator(sd: dict) -> dict:
    rest = {k: v for k, v in sd.items() if not k.startswith("lip_encoder.")}
    return {**rest, "encoder.head.0.weight": sd["lip_encoder.model.0.weight"]}


def _spade_generator(sd: dict) -> dict:
    return {k: v for k, v in sd.items() if not k.startswith("lip_encoder.")}


def _instance_norm(sd: dict) -> dict:
    return {k: v for k, v in sd.items() if ".param_free_norm." not in k}


def _no_spectral_norm(sd: dict) -> dict:
    out = {k.replace("weight_orig", "weight"): v for k, v in sd.items()}
    return {k: v for k, v in out.items() if not k.endswith(("weight_u", "weight_v"))}


def _more_upsampling(sd: dict) -> dict:
    extra = {"lip_encoder.model.24.weight": sd["lip_encoder.model.20.weight"]}
    return {**sd, **extra}


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        (_basicsr, "BasicSR's HiFaceGAN port"),
        (_paper_generator, "the paper's HiFaceGANGenerator"),
        (_instance_norm, "instance norm"),
        (_no_spectral_norm, "not spectral-normalised"),
        (_more_upsampling, "5 pooling stages"),
    ],
)
def test_other_family_members_are_refused_with_the_reason(variant, reason: str) -> None:
    sd = variant(_layout())
    assert looks_like_hifacegan_family(sd)
    with pytest.raises(UnsupportedModelError, match="HiFaceGAN-family file") as caught:
        build_hifacegan(sd)
    assert reason in str(caught.value)
    assert "LIPSPADEGenerator, the network of its released checkpoints" in str(caught.value)


def test_files_load_as_a_face_model_speaking_minus_one_to_one(tmp_path: Path) -> None:
    model = _small_model()
    path = tmp_path / "latest_net_G.pth"
    torch.save(model.state_dict(), path)
    face = load_face_model(path)
    assert (face.arch, face.input_size, face.has_fidelity) == ("HiFaceGAN", 512, False)
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        torch.testing.assert_close(face(x * 2 - 1), model(x) * 2 - 1, rtol=0, atol=1e-6)


def test_a_basicsr_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "net_g_latest.pth"
    torch.save({"params": _basicsr(_small_model().state_dict())}, path)
    with pytest.raises(UnsupportedModelError, match="'net_g_latest.pth': .*BasicSR"):
        load_face_model(path)


def test_released_layout_with_a_missing_tensor_is_a_load_error() -> None:
    sd = _layout()
    del sd["ups.3.conv_s.weight_u"]
    with pytest.raises(ValueError, match="missing"):
        hifacegan_config_from_state_dict(sd)


def test_other_architectures_are_not_taken_for_hifacegan() -> None:
    assert not looks_like_hifacegan_family({"conv_first.weight": torch.zeros(1)})
    spade = {  # the SPADEGenerator of Microsoft's old-photo face enhancement, for example
        "head_0.norm_0.mlp_shared.0.weight": torch.zeros(1),
        "G_middle_0.conv_0.weight_orig": torch.zeros(1),
        "up_0.conv_0.weight_orig": torch.zeros(1),
        "conv_img.weight": torch.zeros(1),
    }
    assert not looks_like_hifacegan_family(spade)
