"""HiFaceGAN's released face renovation network in plain PyTorch.

HiFaceGAN ("Face Renovation via Collaborative Suppression and Replenishment", Lotayou/
Face-Renovation) released its checkpoints (``face_renov``, ``face_renov_2``, ``x16``, ``x4sr``,
``generic``) for the repository's ``LIPSPADEGenerator`` with ``ngf=48``, not for the paper's
``HiFaceGANGenerator``. That network, as its key layout and the paper describe it:

* an encoder that halves the resolution five times with local importance pooling (LIP: an
  average pool weighted by ``exp(12 * sigmoid(logit))``, the logit from a conv and an affine
  instance norm), each followed by a conv and an instance norm: 512 -> 16 px, 16 * ngf channels;
* SPADE residual blocks (``head_0`` at 16 px, ``G_middle_0/1`` at 32 px, then four blocks each
  after a nearest x2 upsampling, halving the width) whose normalisations are modulated by
  per-pixel scales and shifts computed from the input image itself;
* leaky ReLU, the last of the four ``to_rgbs`` convs, tanh.

The official inference (test.py, test_nogt.py) runs the generator in *train* mode, which this
module reproduces deterministically, in any mode:

* SPADE's parameter-free batch norms use the statistics of each face on its own (what train-mode
  batch norm computes for a batch of one), so batching faces changes no face's result; the stored
  running statistics are kept only so that the official files load strictly;
* each spectral-normalised conv divides ``weight_orig`` by ``sigma = u' W v`` after one power
  iteration from the stored ``weight_u``, as a freshly loaded official model does on its first
  forward, but never writes ``u`` back: the same input always gives the same output.

Input: RGB in [0, 1] (no mean/std), NCHW, 512 x 512. Output: tanh in [-1, 1], of which the
official writer keeps [0, 1]. ``fc`` and the first three ``to_rgbs`` (heads of the progressive
training) are in the files but unused.

The repository's plain ``SPADEGenerator`` (no ``lip_encoder.*`` keys; one user reported the
``x4sr`` file to be one) differs only in its encoder: ``fc`` applied to the face shrunk 32 times
by nearest sampling. Both classes were compared once with the official code on random weights
(max difference 1e-5); the golden test covers the released LIPSPADE generator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from faceapp.core.errors import UnsupportedModelError
from faceapp.core.models.archs.layout import check_layout

__all__ = [
    "HiFaceGAN",
    "build_hifacegan",
    "hifacegan_config_from_state_dict",
    "looks_like_hifacegan_family",
]

INPUT_SIZE = 512  # the training size of the released weights
_DOWNSAMPLINGS = 5  # LIP stages: the released "normal" setting, 512 -> 16 px
_STRIDE = 2**_DOWNSAMPLINGS
_MAX_WIDTH = 16  # encoder and generator widths are at most 16 * ngf
_SPADE_HIDDEN = 128
_LRELU_SLOPE = 0.2
_LIP_GATE = 12.0
_NORM_EPS = 1e-5
_SN_EPS = 1e-12


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


class SpectralConv2d(nn.Module):
    """A conv stored as torch's spectral norm stores it (``weight_orig``, ``weight_u``,
    ``weight_v``), run as the train-mode spectral norm runs it, minus the update of ``u``."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__()
        # Registration order follows the official state dict: bias, weight_orig, u, v.
        self.bias = nn.Parameter(torch.empty(out_ch)) if bias else None
        self.weight_orig = nn.Parameter(torch.empty(out_ch, in_ch, kernel_size, kernel_size))
        self.register_buffer("weight_u", torch.empty(out_ch))
        self.register_buffer("weight_v", torch.empty(in_ch * kernel_size * kernel_size))
        self.padding = kernel_size // 2
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """nn.Conv2d's default initialisation, and random unit vectors ``u``, ``v``."""
        nn.init.kaiming_uniform_(self.weight_orig, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight_orig[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)
        with torch.no_grad():
            self.weight_u.copy_(F.normalize(torch.randn_like(self.weight_u), dim=0))
            self.weight_v.copy_(F.normalize(torch.randn_like(self.weight_v), dim=0))

    def weight(self) -> Tensor:
        """``weight_orig / sigma``, sigma after one power iteration from the stored ``u``."""
        matrix = self.weight_orig.flatten(1)
        v = F.normalize(torch.mv(matrix.t(), self.weight_u), dim=0, eps=_SN_EPS)
        u = F.normalize(torch.mv(matrix, v), dim=0, eps=_SN_EPS)
        sigma = torch.dot(u, torch.mv(matrix, v))
        return self.weight_orig / sigma

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight(), self.bias, padding=self.padding)


class FaceNorm(nn.Module):
    """Parameter-free normalisation over each face's own H x W (biased variance, eps 1e-5).

    For a batch of one this is exactly what the official train-mode batch norm computes. The
    running statistics of the official files are registered, never used.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: Tensor) -> Tensor:
        return F.instance_norm(x, eps=_NORM_EPS)


class SPADE(nn.Module):
    """Normalise ``x``, then scale and shift it per pixel by convs of the guiding image."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = min(channels, _SPADE_HIDDEN)
        self.param_free_norm = FaceNorm(channels)
        self.mlp_shared = nn.Sequential(nn.Conv2d(3, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)
        self.mlp_beta = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)

    def forward(self, x: Tensor, guide: Tensor) -> Tensor:
        guide = F.interpolate(guide, size=x.shape[2:], mode="nearest")
        features = self.mlp_shared(guide)
        return self.param_free_norm(x) * self.mlp_gamma(features) + self.mlp_beta(features)


class SPADEResBlock(nn.Module):
    """Pre-activation residual block (SPADE, leaky ReLU, conv, twice); a learned 1x1 shortcut
    when the width changes."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        mid = min(in_ch, out_ch)
        self.conv_0 = SpectralConv2d(in_ch, mid, 3)
        self.conv_1 = SpectralConv2d(mid, out_ch, 3)
        self.conv_s = SpectralConv2d(in_ch, out_ch, 1, bias=False) if in_ch != out_ch else None
        self.norm_0 = SPADE(in_ch)
        self.norm_1 = SPADE(mid)
        self.norm_s = SPADE(in_ch) if in_ch != out_ch else None

    def forward(self, x: Tensor, guide: Tensor) -> Tensor:
        shortcut = x
        if self.conv_s is not None and self.norm_s is not None:
            shortcut = self.conv_s(self.norm_s(x, guide))
        dx = self.conv_0(_lrelu(self.norm_0(x, guide)))
        dx = self.conv_1(_lrelu(self.norm_1(dx, guide)))
        return shortcut + dx


class _SoftGate(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(x) * _LIP_GATE


class LIPool(nn.Module):
    """Local importance pooling: a 3x3 stride-2 average weighted by a learned, positive logit."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.logit = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            _SoftGate(),
        )

    def forward(self, x: Tensor) -> Tensor:
        weight = self.logit(x).exp()
        return F.avg_pool2d(x * weight, 3, 2, 1) / F.avg_pool2d(weight, 3, 2, 1)


def lip_encoder_layers(ngf: int, downsamplings: int = _DOWNSAMPLINGS) -> nn.Sequential:
    """conv, norm, ReLU; then per stage LIP, conv (doubling the width up to 16 * ngf), norm and,
    except after the last stage, ReLU. The indices are those of the official key layout."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, ngf, 3, padding=1, bias=False),
        nn.InstanceNorm2d(ngf),
        nn.ReLU(),
    ]
    width = 1
    for stage in range(downsamplings):
        wider = min(width * 2, _MAX_WIDTH)
        layers += [
            LIPool(ngf * width),
            nn.Conv2d(ngf * width, ngf * wider, 3, padding=1),
            nn.InstanceNorm2d(ngf * wider),
        ]
        if stage < downsamplings - 1:
            layers.append(nn.ReLU())
        width = wider
    return nn.Sequential(*layers)


class _LIPEncoder(nn.Module):
    def __init__(self, ngf: int) -> None:
        super().__init__()
        self.model = lip_encoder_layers(ngf)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def _lrelu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, _LRELU_SLOPE)


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class HiFaceGAN(nn.Module):
    """The released HiFaceGAN generator (official ``LIPSPADEGenerator``), key for key."""

    def __init__(self, ngf: int = 48, lip_encoder: bool = True) -> None:
        super().__init__()
        top = _MAX_WIDTH * ngf
        self.ngf = ngf
        self.fc = nn.Conv2d(3, top, 3, padding=1)  # the encoder when there is no LIP encoder
        self.head_0 = SPADEResBlock(top, top)
        self.G_middle_0 = SPADEResBlock(top, top)
        self.G_middle_1 = SPADEResBlock(top, top)
        widths = [top // 2**i for i in range(5)]  # 16, 8, 4, 2, 1 times ngf
        self.ups = nn.ModuleList(
            SPADEResBlock(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.to_rgbs = nn.ModuleList(nn.Conv2d(w, 3, 3, padding=1) for w in widths[1:])
        self.lip_encoder = _LIPEncoder(ngf) if lip_encoder else None

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, 512, 512) RGB in [0, 1] -> (N, 3, 512, 512) in [-1, 1] (keep [0, 1]).

        Any multiple of 32 runs (the network is fully convolutional); the weights were trained
        on 512 x 512 faces."""
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[-1] % _STRIDE or x.shape[-2] % _STRIDE:
            raise ValueError(
                f"HiFaceGAN expects (N, 3, H, W) with H and W multiples of {_STRIDE} "
                f"({INPUT_SIZE} x {INPUT_SIZE} for the released weights), got {tuple(x.shape)}"
            )
        guide = x
        h = self.head_0(self.encode(x), guide)
        h = _upsample(h)
        h = self.G_middle_1(self.G_middle_0(h, guide), guide)
        for block in self.ups:
            h = block(_upsample(h), guide)
        return torch.tanh(self.to_rgbs[-1](_lrelu(h)))

    def encode(self, x: Tensor) -> Tensor:
        """The 16 * ngf features at 1/32 of the size: the LIP encoder's, or for the repository's
        plain ``SPADEGenerator`` the ``fc`` conv of the face shrunk by nearest sampling."""
        if self.lip_encoder is not None:
            return self.lip_encoder(x)
        small = F.interpolate(x, size=(x.shape[-2] // _STRIDE, x.shape[-1] // _STRIDE))
        return self.fc(small)


def _upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


# --------------------------------------------------------------------------------------------
# Recognition
# --------------------------------------------------------------------------------------------

_SPADE_MARKER = "head_0.norm_0.mlp_shared.0.weight"
_LIP_MARKER = "lip_encoder.model.0.weight"
_LAST_RGB = "to_rgbs.3.weight"  # (3, ngf, 3, 3)
_STATS_KEY = "head_0.norm_0.param_free_norm.running_mean"
_ENCODER_LAYER = re.compile(r"lip_encoder\.model\.(\d+)\.")


def looks_like_hifacegan_family(sd: Mapping[str, object]) -> bool:
    """Any generator of Face-Renovation or of BasicSR's port of it: a SPADE ``head_0`` and the
    progressive ``to_rgbs`` heads (other SPADE generators, e.g. of old-photo restoration, end
    in a single ``conv_img``)."""
    return _SPADE_MARKER in sd and "to_rgbs.0.weight" in sd


def hifacegan_config_from_state_dict(sd: Mapping[str, Tensor]) -> dict:
    """``HiFaceGAN(**config)`` for a state dict of the released layout (any width ``ngf``).

    Raises UnsupportedModelError for HiFaceGAN-family files this module does not run, and
    ValueError for the released layout with missing, extra or misshapen tensors.
    """
    _refuse_other_variants(sd)
    config = {"ngf": int(sd[_LAST_RGB].shape[1]), "lip_encoder": _LIP_MARKER in sd}
    _check_shapes(sd, config)
    return config


_HEAD = "This is a HiFaceGAN-family file that faceapp cannot run"
_RELEASED = (
    "faceapp runs Face-Renovation's LIPSPADEGenerator, the network of its released checkpoints, "
    "and its plain SPADEGenerator"
)


def _refuse_other_variants(sd: Mapping[str, object]) -> None:
    reason = _unsupported_variant(sd)
    if reason:
        raise UnsupportedModelError(f"{_HEAD}: {reason}. {_RELEASED}.")


def _unsupported_variant(sd: Mapping[str, object]) -> str | None:
    if any(k.startswith("g_middle_") for k in sd):
        return (
            "it was trained with BasicSR's HiFaceGAN port, whose test code runs the network in "
            "eval mode (stored spectral-norm vectors, running statistics) while the official "
            "inference runs it in train mode, so which output is right cannot be told"
        )
    if any(k.startswith("encoder.") for k in sd):
        return "it is the paper's HiFaceGANGenerator, for which no weights were released"
    if "head_0.conv_0.weight_orig" not in sd:
        return "its convolutions are not spectral-normalised"
    if _STATS_KEY not in sd:
        return "its SPADE layers use an instance norm, not the batch norm of the released files"
    layers = {int(m.group(1)) for key in sd if (m := _ENCODER_LAYER.match(key))}
    if layers and max(layers) != 4 * _DOWNSAMPLINGS:  # the index of the last encoder conv
        return (
            f"its encoder does not have the {_DOWNSAMPLINGS} pooling stages of the released files"
        )
    return None


def _check_shapes(sd: Mapping[str, Tensor], config: dict) -> None:
    """Raise ValueError unless ``sd`` has exactly the keys and shapes of ``HiFaceGAN(**config)``."""
    with torch.device("meta"):
        reference = HiFaceGAN(**config).state_dict()
    check_layout(sd, reference, "HiFaceGAN", config)


def build_hifacegan(sd: Mapping[str, Tensor]) -> HiFaceGAN:
    """Infer the config, build the model and load ``sd`` strictly. Returns it in eval mode
    (which changes nothing: the module always computes what the official train mode does)."""
    config = hifacegan_config_from_state_dict(sd)
    with torch.device("meta"):
        model = HiFaceGAN(**config)
    model = model.to_empty(device="cpu")  # no random init: every tensor comes from sd
    model.load_state_dict(sd, strict=True)
    return model.eval()
