"""GPEN-BFR (GAN Prior Embedded Network) in plain PyTorch.

A clean re-implementation of ``FullGenerator`` from yangxy/GPEN (``face_model/gpen_model.py``)
for the 256, 512, 1024 and 2048 face models. It needs no compiled extension: the fused
bias + leaky ReLU and the FIR resampling (``upfirdn2d``) are expressed with ordinary torch ops.

Parameter and buffer names follow the official ``state_dict`` layout exactly, so the official
``.pth`` files (bare state dicts) load with ``strict=True``.

The network is an encoder (``ecd0`` ... ``ecdN``, one stride-2 level per octave down to 4x4)
followed by a StyleGAN2 generator. The encoder's last feature map gives the style vector (through
``final_linear`` and the mapping MLP ``generator.style``), and every encoder feature map is
concatenated into the generator as its "noise" input at the matching resolution.

Input and output: RGB in [-1, 1], NCHW, at ``size`` x ``size``. The output is not clamped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from faceapp.core.models.archs.layout import check_layout

__all__ = ["GPEN", "build_gpen", "gpen_config_from_state_dict", "looks_like_gpen"]

SUPPORTED_SIZES = (256, 512, 1024, 2048)
_LRELU_SLOPE = 0.2
_LRELU_GAIN = math.sqrt(2.0)
_FIR_TAPS = (1.0, 3.0, 3.0, 1.0)
_MAPPING_LR_MUL = 0.01
_EPS = 1e-8


# --------------------------------------------------------------------------------------------
# Functional helpers
# --------------------------------------------------------------------------------------------


def bias_leaky_relu(x: Tensor, bias: Tensor) -> Tensor:
    """``sqrt(2) * leaky_relu(x + bias, 0.2)`` with ``bias`` broadcast over dimension 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return F.leaky_relu(x + bias.view(shape), _LRELU_SLOPE) * _LRELU_GAIN


def upfirdn2d(
    x: Tensor, kernel: Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)
) -> Tensor:
    """Upsample by zero insertion, pad, apply a 2-D FIR filter, then keep every ``down``-th pixel.

    ``pad`` = (before, after) is applied to both spatial axes (negative values crop). The filter is
    a true convolution (the kernel is flipped), each channel filtered independently.
    """
    n, c, h, w = x.shape
    if up > 1:
        spread = x.new_zeros(n, c, h * up, w * up)
        spread[:, :, ::up, ::up] = x
        x = spread
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]), value=0.0)  # an explicit value exports to ONNX
    kh, kw = kernel.shape
    flipped = torch.flip(kernel, (0, 1)).to(x.dtype)
    if torch.jit.is_tracing():
        # The ONNX export needs a kernel of known shape; channels folded into the batch give it.
        folded = F.conv2d(x.reshape(n * c, 1, *x.shape[2:]), flipped[None, None], stride=down)
        return folded.reshape(n, c, *folded.shape[2:])
    # Depthwise conv: much faster on CPU than folding the channels into a 1-channel batch.
    return F.conv2d(x, flipped.expand(c, 1, kh, kw), stride=down, groups=c)


def fir_kernel(taps: Sequence[float] = _FIR_TAPS, gain: float = 1.0) -> Tensor:
    """Separable 2-D FIR kernel ``outer(taps, taps)``, normalised to sum ``gain``."""
    norm = gain / sum(taps) ** 2
    # Built from Python floats: cheap on any default device, meta included.
    return torch.tensor([[a * b * norm for b in taps] for a in taps], dtype=torch.float32)


def gpen_channels(resolution: int, channel_multiplier: float, narrow: float) -> int:
    """Feature width of GPEN at one resolution (4 ... 2048), as in the official channel table."""
    if resolution <= 32:
        return int(512 * narrow)
    return int((16384 // resolution) * channel_multiplier * narrow)


# --------------------------------------------------------------------------------------------
# Building blocks (names of registered tensors follow the official key layout)
# --------------------------------------------------------------------------------------------


class FIRFilter(nn.Module):
    """Fixed FIR filter with optional zero-insertion upsampling. Buffer: ``kernel``.

    ``gain`` is the kernel sum: 4 wherever the filter follows a 2x zero insertion, else 1.
    """

    def __init__(self, pad: tuple[int, int], up: int = 1, gain: float = 1.0) -> None:
        super().__init__()
        self.pad = pad
        self.up = up
        self.register_buffer("kernel", fir_kernel(gain=gain))

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, up=self.up, pad=self.pad)


class BiasLeakyReLU(nn.Module):
    """Per-channel bias followed by the gain-corrected leaky ReLU. Parameter: ``bias``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return bias_leaky_relu(x, self.bias)


class EqualizedLinear(nn.Module):
    """Linear layer with run-time weight scaling ``lr_mul / sqrt(in)`` (equalized learning rate)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        lr_mul: float = 1.0,
        bias_init: float = 0.0,
        activate: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        self.lr_mul = lr_mul
        self.bias_init = bias_init
        self.scale = lr_mul / math.sqrt(in_features)
        self.activate = activate

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=1.0 / self.lr_mul)  # the stored weight is randn / lr_mul
        nn.init.constant_(self.bias, self.bias_init)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight * self.scale
        bias = self.bias * self.lr_mul
        if self.activate:
            return bias_leaky_relu(F.linear(x, weight), bias)
        return F.linear(x, weight, bias)


class EqualizedConv2d(nn.Module):
    """Bias-free convolution with run-time weight scaling ``1 / sqrt(fan_in)``."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int, padding: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_ch * kernel_size * kernel_size)
        self.stride = stride
        self.padding = padding

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, stride=self.stride, padding=self.padding)


class PixelNorm(nn.Module):
    """Normalise each feature vector to unit RMS over dimension 1."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + _EPS)


class ModulatedConv2d(nn.Module):
    """StyleGAN2 modulated convolution, optionally a 2x transposed ("up") convolution + blur.

    Tensors: ``weight`` (1, out, in, k, k), ``modulation.{weight,bias}``, ``blur.kernel`` (up only).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        style_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.in_ch = in_ch
        self.out_ch = out_ch
        self.kernel_size = kernel_size
        self.demodulate = demodulate
        self.upsample = upsample
        self.scale = 1.0 / math.sqrt(in_ch * kernel_size * kernel_size)
        self.weight = nn.Parameter(torch.empty(1, out_ch, in_ch, kernel_size, kernel_size))
        if upsample:
            # The transposed conv yields 2H + k - 2 pixels; a 4-tap blur brings them back to 2H.
            excess = len(_FIR_TAPS) - 2 - (kernel_size - 1)
            self.blur = FIRFilter(pad=((excess + 1) // 2 + 1, excess // 2 + 1), gain=4.0)
        self.modulation = EqualizedLinear(style_dim, in_ch, bias_init=1.0)

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight)

    def _styled_weight(self, style: Tensor) -> Tensor:
        """Per-sample weights, shape (batch, out, in, k, k)."""
        batch = style.shape[0]
        s = self.modulation(style).view(batch, 1, self.in_ch, 1, 1)
        weight = self.scale * self.weight * s
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4)) + _EPS)
            weight = weight * demod.view(batch, self.out_ch, 1, 1, 1)
        return weight

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        k = self.kernel_size
        weight = self._styled_weight(style)
        grouped = x.reshape(1, batch * self.in_ch, height, width)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(-1, self.out_ch, k, k)  # -1: exportable
            out = F.conv_transpose2d(grouped, weight, stride=2, groups=batch)
            out = out.view(batch, self.out_ch, out.shape[2], out.shape[3])
            return self.blur(out)
        weight = weight.reshape(-1, self.in_ch, k, k)
        out = F.conv2d(grouped, weight, padding=k // 2, groups=batch)
        return out.view(batch, self.out_ch, height, width)


class FeatureConcat(nn.Module):
    """Append the scaled encoder feature (GPEN's "noise") as extra channels. Param: ``weight``."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, feature: Tensor) -> Tensor:
        return torch.cat((x, self.weight * feature), dim=1)


class StyledLayer(nn.Module):
    """Modulated conv -> concat encoder feature -> bias + leaky ReLU (doubles the width)."""

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, style_dim, upsample=upsample)
        self.noise = FeatureConcat()
        self.activate = BiasLeakyReLU(2 * out_ch)

    def forward(self, x: Tensor, style: Tensor, feature: Tensor) -> Tensor:
        return self.activate(self.noise(self.conv(x, style), feature))


class ToRGB(nn.Module):
    """1x1 modulated projection to RGB, added to the 2x up-sampled previous RGB (``skip``)."""

    def __init__(self, in_ch: int, style_dim: int, upsample: bool = True) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        if upsample:
            # Zero-insertion 2x upsampling then a 4-tap blur: pads (2, 1) keep the grid aligned.
            self.upsample = FIRFilter(pad=(2, 1), up=2, gain=4.0)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConstantInput(nn.Module):
    """Learned 4x4 start tensor. Parameter: ``input``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.empty(1, channels, 4, 4))

    def reset_parameters(self) -> None:
        nn.init.normal_(self.input)

    def forward(self, batch: int) -> Tensor:
        return self.input.expand(batch, -1, -1, -1)


class StyleDecoder(nn.Module):
    """GPEN's StyleGAN2 generator (``generator.*``): one style vector plus encoder features."""

    def __init__(
        self,
        size: int,
        style_dim: int,
        n_mlp: int,
        channel_multiplier: float,
        narrow: float,
    ) -> None:
        super().__init__()
        mapping: list[nn.Module] = [PixelNorm()]
        mapping += [
            EqualizedLinear(style_dim, style_dim, lr_mul=_MAPPING_LR_MUL, activate=True)
            for _ in range(n_mlp)
        ]
        self.style = nn.Sequential(*mapping)

        def width(res: int) -> int:
            return gpen_channels(res, channel_multiplier, narrow)

        self.input = ConstantInput(width(4))
        self.conv1 = StyledLayer(width(4), width(4), style_dim)
        self.to_rgb1 = ToRGB(2 * width(4), style_dim, upsample=False)

        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        in_ch = width(4)
        for log_res in range(3, int(math.log2(size)) + 1):
            out_ch = width(2**log_res)
            self.convs.append(StyledLayer(2 * in_ch, out_ch, style_dim, upsample=True))
            self.convs.append(StyledLayer(2 * out_ch, out_ch, style_dim))
            self.to_rgbs.append(ToRGB(2 * out_ch, style_dim))
            in_ch = out_ch

    def forward(self, code: Tensor, features: Sequence[Tensor]) -> Tensor:
        """``features[i]`` is the encoder map at resolution ``4 * 2**i``."""
        w = self.style(code)
        out = self.conv1(self.input(code.shape[0]), w, features[0])
        rgb = self.to_rgb1(out, w)
        for level, to_rgb in enumerate(self.to_rgbs, start=1):
            feature = features[level]
            out = self.convs[2 * level - 2](out, w, feature)
            out = self.convs[2 * level - 1](out, w, feature)
            rgb = to_rgb(out, w, rgb)
        return rgb


def _encoder_level(in_ch: int, out_ch: int, downsample: bool) -> nn.Sequential:
    """``ecdN``: (blur ->) equalized conv (stride 2) -> bias + leaky ReLU, keys ``ecdN.0.i``."""
    layers: list[nn.Module] = []
    if downsample:
        layers.append(FIRFilter(pad=(2, 2)))  # 4-tap blur + 3x3 stride-2 conv keeps H/2
        layers.append(EqualizedConv2d(in_ch, out_ch, 3, stride=2, padding=0))
    else:
        layers.append(EqualizedConv2d(in_ch, out_ch, 1, stride=1, padding=0))
    layers.append(BiasLeakyReLU(out_ch))
    return nn.Sequential(nn.Sequential(*layers))


# --------------------------------------------------------------------------------------------
# Full model
# --------------------------------------------------------------------------------------------


class GPEN(nn.Module):
    """GPEN-BFR ``FullGenerator``: RGB [-1, 1] at ``size``^2 in, restored RGB [-1, 1] out."""

    def __init__(
        self,
        size: int,
        style_dim: int = 512,
        n_mlp: int = 8,
        channel_multiplier: float = 2,
        narrow: float = 1.0,
    ) -> None:
        super().__init__()
        log_size = int(math.log2(size)) if size > 0 else 0
        if size < 8 or 2**log_size != size:
            raise ValueError(f"GPEN size must be a power of two >= 8, got {size}")
        self.size = size
        self.style_dim = style_dim
        self.n_mlp = n_mlp
        self.channel_multiplier = channel_multiplier
        self.narrow = narrow

        self.generator = StyleDecoder(size, style_dim, n_mlp, channel_multiplier, narrow)

        self.num_levels = log_size - 1  # ecd0 at full size, then one per octave down to 4x4
        in_ch = 3
        for level in range(self.num_levels):
            out_ch = gpen_channels(size >> level, channel_multiplier, narrow)
            self.add_module(f"ecd{level}", _encoder_level(in_ch, out_ch, downsample=level > 0))
            in_ch = out_ch
        self.final_linear = nn.Sequential(
            EqualizedLinear(in_ch * 4 * 4, style_dim, activate=True),
        )
        if not self.final_linear[0].weight.is_meta:  # meta: shapes only, nothing to initialise
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Random initialisation as in the official constructor (randn weights, zero strengths)."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def encode(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Style code and encoder features, the features ordered from 4x4 up to full size."""
        features = []
        for level in range(self.num_levels):
            x = getattr(self, f"ecd{level}")(x)
            features.append(x)
        code = self.final_linear(x.flatten(1))
        return code, features[::-1]

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2:] != (self.size, self.size):
            raise ValueError(
                f"GPEN-{self.size} expects an (N, 3, {self.size}, {self.size}) tensor, "
                f"got {tuple(x.shape)}"
            )
        code, features = self.encode(x)
        return self.generator(code, features)


# --------------------------------------------------------------------------------------------
# State-dict helpers
# --------------------------------------------------------------------------------------------

_GPEN_MARKERS = (
    "generator.input.input",
    "generator.conv1.conv.weight",
    "generator.style.1.weight",
    "ecd0.0.0.weight",
    "final_linear.0.weight",
)
_ECD_KEY = re.compile(r"^ecd(\d+)\.0\.\d+\.weight$")
_STYLE_KEY = re.compile(r"^generator\.style\.(\d+)\.weight$")


def looks_like_gpen(sd: Mapping[str, object]) -> bool:
    """Cheap check on key names only: is this a GPEN ``FullGenerator`` state dict?"""
    return all(key in sd for key in _GPEN_MARKERS)


def _as_number(value: float) -> float | int:
    """An integral float as int (2.0 -> 2), anything else unchanged."""
    return int(value) if float(value).is_integer() else value


def gpen_config_from_state_dict(sd: Mapping[str, Tensor]) -> dict:
    """Infer ``GPEN(**config)`` arguments from the key names and shapes of a state dict.

    Returns a dict with ``size``, ``style_dim``, ``n_mlp``, ``channel_multiplier`` and ``narrow``.
    Raises ``ValueError`` when the dict is not a GPEN ``FullGenerator`` or is inconsistent.
    """
    if not looks_like_gpen(sd):
        missing = [key for key in _GPEN_MARKERS if key not in sd]
        raise ValueError(f"not a GPEN FullGenerator state dict (missing keys: {missing})")

    levels = [int(m.group(1)) for key in sd if (m := _ECD_KEY.match(key))]
    num_levels = max(levels) + 1
    size = 2 ** (num_levels + 1)
    n_mlp = sum(1 for key in sd if _STYLE_KEY.match(key))
    style_dim = int(sd["final_linear.0.weight"].shape[0])

    narrow = int(sd["generator.input.input"].shape[1]) / 512
    # The multiplier first shows at 64x64, whose width is 256 * channel_multiplier * narrow; the
    # first generator layer at that resolution is convs.6 (two layers per octave from 8x8).
    key64 = "generator.convs.6.conv.weight"
    if key64 in sd:
        width64 = int(sd[key64].shape[1])
        channel_multiplier: float = round(width64 / (256 * narrow), 4)
    else:
        channel_multiplier = 2  # size < 64: the multiplier changes no shape

    config = {
        "size": size,
        "style_dim": style_dim,
        "n_mlp": n_mlp,
        "channel_multiplier": _as_number(channel_multiplier),
        "narrow": _as_number(narrow),
    }
    _check_shapes(sd, config)
    return config


def _check_shapes(sd: Mapping[str, Tensor], config: dict) -> None:
    """Raise ``ValueError`` unless ``sd`` has exactly the keys and shapes of ``GPEN(**config)``."""
    try:
        with torch.device("meta"):
            reference = GPEN(**config).state_dict()
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ValueError(f"inconsistent GPEN state dict (inferred {config}): {exc}") from exc
    check_layout(sd, reference, "GPEN", config)


def build_gpen(sd: Mapping[str, Tensor]) -> GPEN:
    """Infer the config, build the model and load ``sd`` strictly. Returns it in eval mode."""
    config = gpen_config_from_state_dict(sd)
    with torch.device("meta"):
        model = GPEN(**config)
    model = model.to_empty(device="cpu")  # no random init: every tensor comes from sd
    model.load_state_dict(sd, strict=True)
    return model.eval()
