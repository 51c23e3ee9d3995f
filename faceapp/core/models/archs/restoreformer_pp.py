"""RestoreFormer and RestoreFormer++ in plain PyTorch.

Both networks are the official ``VQVAEGANMultiHeadTransformer`` (wzhouxiff/RestoreFormerPlusPlus)
with different settings:

* RestoreFormer++: 4 attention heads, one extra decoder attention scale (32x32 at the 512 training
  resolution), ``ex_multi_scale_num=1``.
* RestoreFormer: 8 attention heads, decoder attention only where the encoder has it,
  ``ex_multi_scale_num=0``.

Data flow (``L`` resolution levels, ``ch * ch_mult[i]`` channels at level ``i``):

* encoder: conv_in; per level residual blocks, each followed by multi-head self-attention on the
  levels whose training resolution is in ``attn_resolutions``, then a stride-2 conv except on the
  last level; mid block (residual, self-attention, residual); GroupNorm, swish, conv_out.
* quant_conv, nearest-neighbour vector quantisation against the codebook, post_quant_conv.
* decoder: conv_in; mid block whose attention is cross-attention; per level (deepest first)
  residual blocks, optionally followed by cross-attention, then nearest x2 upsampling and a conv;
  GroupNorm, swish, conv_out.

In every cross-attention the *queries* come from the encoder feature of the same level (the mid
block's output for the decoder mid block, the first mid residual output for the deepest level),
while keys and values come from the decoder stream. Parameter names follow the official
state-dict layout, so the bare checkpoint keys load with ``strict=True``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "RestoreFormerPP",
    "build_restoreformer",
    "looks_like_restoreformer_pp",
    "restoreformer_config_from_state_dict",
    "unwrap_restoreformer_checkpoint",
]

_NORM_GROUPS = 32
_NORM_EPS = 1e-6
_CHECKPOINT_PREFIX = "vqvae."
_TRAINING_RESOLUTION = 512
_HEADS_PLUS_PLUS = 4
_HEADS_PLAIN = 8
_SIGNATURE_KEYS = (
    "encoder.conv_in.weight",
    "encoder.mid.attn_1.q.weight",
    "encoder.conv_out.weight",
    "quant_conv.weight",
    "quantize.embedding.weight",
    "post_quant_conv.weight",
    "decoder.conv_in.weight",
    "decoder.mid.attn_1.q.weight",
    "decoder.conv_out.weight",
)


def _group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(_NORM_GROUPS, channels, eps=_NORM_EPS, affine=True)


def _conv1x1(channels: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, kernel_size=1)


def _conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1)


class ResBlock(nn.Module):
    """Pre-activation residual block: two (GroupNorm, swish, 3x3 conv) stages.

    A 1x1 conv (``nin_shortcut``) projects the identity path when the width changes.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.norm1 = _group_norm(in_ch)
        self.conv1 = _conv3x3(in_ch, out_ch)
        self.norm2 = _group_norm(out_ch)
        self.conv2 = _conv3x3(out_ch, out_ch)
        self.nin_shortcut = nn.Conv2d(in_ch, out_ch, kernel_size=1) if in_ch != out_ch else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        identity = x if self.nin_shortcut is None else self.nin_shortcut(x)
        return identity + h


class MultiHeadAttention(nn.Module):
    """Multi-head dot-product attention over spatial positions, with 1x1-conv projections.

    ``forward(x)`` is self-attention on ``norm1(x)``. ``forward(x, guide)`` is the RestoreFormer
    cross-attention: queries from ``norm2(guide)``, keys and values from ``norm1(x)``. Channels are
    split head-major (channel ``c`` belongs to head ``c // (channels // heads)``). The result is
    added to ``x``.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"{channels} channels cannot be split into {heads} heads")
        self.heads = heads
        self.norm1 = _group_norm(channels)
        self.norm2 = _group_norm(channels)
        self.q = _conv1x1(channels)
        self.k = _conv1x1(channels)
        self.v = _conv1x1(channels)
        self.proj_out = _conv1x1(channels)

    def _split_heads(self, t: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, heads, H*W, C // heads)."""
        b, c, h, w = t.shape
        return t.reshape(b, self.heads, c // self.heads, h * w).transpose(2, 3)

    def forward(self, x: Tensor, guide: Tensor | None = None) -> Tensor:
        if guide is not None and guide.shape != x.shape:
            raise ValueError(f"guide shape {tuple(guide.shape)} != feature shape {tuple(x.shape)}")
        x_n = self.norm1(x)
        query_src = x_n if guide is None else self.norm2(guide)
        q = self._split_heads(self.q(query_src))
        k = self._split_heads(self.k(x_n))
        v = self._split_heads(self.v(x_n))
        q = q * q.shape[-1] ** -0.5
        weights = torch.softmax(q @ k.transpose(2, 3), dim=-1)
        out = (weights @ v).transpose(2, 3).reshape(x.shape)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    """Halve the resolution: zero-pad one pixel right and bottom, then a stride-2 3x3 conv."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1), value=0.0))


class Upsample(nn.Module):
    """Double the resolution: nearest-neighbour x2, then a 3x3 conv."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = _conv3x3(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class _Level(nn.Module):
    """Residual blocks at one resolution, each optionally followed by attention."""

    def __init__(self, in_ch: int, out_ch: int, n_blocks: int, heads: int, attention: bool) -> None:
        super().__init__()
        self.block = nn.ModuleList(
            ResBlock(in_ch if i == 0 else out_ch, out_ch) for i in range(n_blocks)
        )
        n_attn = n_blocks if attention else 0
        self.attn = nn.ModuleList(MultiHeadAttention(out_ch, heads) for _ in range(n_attn))

    def run_blocks(self, h: Tensor, guide: Tensor | None = None) -> Tensor:
        for i, block in enumerate(self.block):
            h = block(h)
            if len(self.attn):
                h = self.attn[i](h, guide)
        return h


class EncoderLevel(_Level):
    def __init__(
        self, in_ch: int, out_ch: int, n_blocks: int, heads: int, attention: bool, down: bool
    ) -> None:
        super().__init__(in_ch, out_ch, n_blocks, heads, attention)
        self.downsample = Downsample(out_ch) if down else None


class DecoderLevel(_Level):
    def __init__(
        self, in_ch: int, out_ch: int, n_blocks: int, heads: int, attention: bool, up: bool
    ) -> None:
        super().__init__(in_ch, out_ch, n_blocks, heads, attention)
        self.upsample = Upsample(out_ch) if up else None


class MidBlock(nn.Module):
    """Residual block, attention, residual block at the lowest resolution."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.block_1 = ResBlock(channels, channels)
        self.attn_1 = MultiHeadAttention(channels, heads)
        self.block_2 = ResBlock(channels, channels)

    def forward(self, x: Tensor, guide: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return (output of ``block_1``, output of the whole block)."""
        first = self.block_1(x)
        return first, self.block_2(self.attn_1(first, guide))


class Encoder(nn.Module):
    def __init__(
        self,
        in_channels: int,
        ch: int,
        widths: Sequence[int],
        num_res_blocks: int,
        attn_levels: set[int],
        heads: int,
        z_channels: int,
    ) -> None:
        super().__init__()
        self.conv_in = _conv3x3(in_channels, ch)
        levels = []
        prev = ch
        for i, width in enumerate(widths):
            down = i < len(widths) - 1
            levels.append(EncoderLevel(prev, width, num_res_blocks, heads, i in attn_levels, down))
            prev = width
        self.down = nn.ModuleList(levels)
        self.mid = MidBlock(prev, heads)
        self.norm_out = _group_norm(prev)
        self.conv_out = _conv3x3(prev, z_channels)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor], Tensor]:
        """Return (latent, per-level query features, query feature for the decoder mid block)."""
        h = self.conv_in(x)
        guides: list[Tensor] = []
        for level in self.down:
            h = level.run_blocks(h)
            if level.downsample is not None:
                guides.append(h)
                h = level.downsample(h)
        first, h = self.mid(h)
        guides.append(first)
        z = self.conv_out(F.silu(self.norm_out(h)))
        return z, guides, h


class Decoder(nn.Module):
    def __init__(
        self,
        widths: Sequence[int],
        num_res_blocks: int,
        attn_levels: set[int],
        heads: int,
        z_channels: int,
        out_channels: int,
    ) -> None:
        super().__init__()
        self.conv_in = _conv3x3(z_channels, widths[-1])
        self.mid = MidBlock(widths[-1], heads)
        levels: list[DecoderLevel] = []
        prev = widths[-1]
        for i in reversed(range(len(widths))):
            levels.append(
                DecoderLevel(prev, widths[i], num_res_blocks + 1, heads, i in attn_levels, i > 0)
            )
            prev = widths[i]
        self.up = nn.ModuleList(reversed(levels))  # index i is level i, as in the encoder
        self.norm_out = _group_norm(widths[0])
        self.conv_out = _conv3x3(widths[0], out_channels)

    def forward(self, z: Tensor, guides: Sequence[Tensor], mid_guide: Tensor) -> Tensor:
        h = self.conv_in(z)
        _, h = self.mid(h, mid_guide)
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            h = level.run_blocks(h, guides[i])
            if level.upsample is not None:
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VectorQuantizer(nn.Module):
    """Replace every latent vector by its nearest codebook entry (squared Euclidean distance)."""

    def __init__(self, n_embed: int, embed_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_embed, embed_dim)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Return (quantised latent (B, C, H, W), code indices (B*H*W, 1) in b, y, x order)."""
        b, c, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, c)
        codebook = self.embedding.weight
        dist = (
            flat.pow(2).sum(dim=1, keepdim=True)
            + codebook.pow(2).sum(dim=1)
            - 2.0 * (flat @ codebook.t())
        )
        indices = dist.argmin(dim=1)
        z_q = self.embedding(indices).view(b, h, w, c).permute(0, 3, 1, 2).contiguous()
        return z_q, indices.unsqueeze(1)


def _encoder_level_resolutions(resolution: int, n_levels: int) -> list[int]:
    return [resolution // 2**i for i in range(n_levels)]


def _decoder_level_resolutions(resolution: int, n_levels: int) -> list[int]:
    lowest = resolution // 2 ** (n_levels - 1)
    return [lowest * 2 ** (n_levels - 1 - i) for i in range(n_levels)]


def _decoder_attn_resolutions(attn_resolutions: Sequence[int], extra_scales: int) -> list[int]:
    """Each extra scale keeps the first entry and doubles the last one (official behaviour)."""
    res = list(attn_resolutions)
    for _ in range(extra_scales):
        res = [res[0], res[-1] * 2]
    return res


class RestoreFormerPP(nn.Module):
    """RestoreFormer / RestoreFormer++ restoration network (``VQVAEGANMultiHeadTransformer``).

    ``resolution`` is the training resolution; it only decides which levels carry attention. The
    network is fully convolutional: any input whose height and width are multiples of
    ``2 ** (len(ch_mult) - 1)`` works. Input and output are RGB in [-1, 1], NCHW; the output is
    not clamped.
    """

    def __init__(
        self,
        *,
        head_size: int = _HEADS_PLUS_PLUS,
        ex_multi_scale_num: int = 1,
        n_embed: int = 1024,
        embed_dim: int = 256,
        ch: int = 64,
        out_ch: int = 3,
        ch_mult: Sequence[int] = (1, 2, 2, 4, 4, 8),
        num_res_blocks: int = 2,
        attn_resolutions: Sequence[int] = (16,),
        in_channels: int = 3,
        resolution: int = _TRAINING_RESOLUTION,
        z_channels: int = 256,
    ) -> None:
        super().__init__()
        n_levels = len(ch_mult)
        widths = [ch * m for m in ch_mult]
        enc_res = _encoder_level_resolutions(resolution, n_levels)
        dec_res = _decoder_level_resolutions(resolution, n_levels)
        dec_attn = _decoder_attn_resolutions(attn_resolutions, ex_multi_scale_num)
        enc_levels = {i for i, r in enumerate(enc_res) if r in attn_resolutions}
        dec_levels = {i for i, r in enumerate(dec_res) if r in dec_attn}
        self.in_channels = in_channels
        self.size_multiple = 2 ** (n_levels - 1)
        self.encoder = Encoder(
            in_channels, ch, widths, num_res_blocks, enc_levels, head_size, z_channels
        )
        self.decoder = Decoder(widths, num_res_blocks, dec_levels, head_size, z_channels, out_ch)
        self.quantize = VectorQuantizer(n_embed, embed_dim)
        self.quant_conv = nn.Conv2d(z_channels, embed_dim, kernel_size=1)
        self.post_quant_conv = nn.Conv2d(embed_dim, z_channels, kernel_size=1)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        m = self.size_multiple
        if x.shape[2] % m or x.shape[3] % m:
            raise ValueError(f"height and width must be multiples of {m}, got {tuple(x.shape)}")

    def forward_with_indices(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return (decoded image, codebook indices of shape (N*h*w, 1), int64)."""
        self._check_input(x)
        z, guides, mid_guide = self.encoder(x)
        z_q, indices = self.quantize(self.quant_conv(z))
        dec = self.decoder(self.post_quant_conv(z_q), guides, mid_guide)
        return dec, indices

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_with_indices(x)[0]


def unwrap_restoreformer_checkpoint(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Bare state dict from a bare dict or a Lightning checkpoint ({"state_dict": {...}}).

    When keys carry the ``vqvae.`` prefix of the released checkpoints, only those entries are kept
    (discriminator, loss and other training entries are dropped) and the prefix is stripped.
    """
    if not isinstance(obj, Mapping):
        raise ValueError(f"expected a state dict (mapping), got {type(obj).__name__}")
    inner = obj.get("state_dict")
    sd = inner if isinstance(inner, Mapping) else obj
    if not any(isinstance(k, str) and k.startswith(_CHECKPOINT_PREFIX) for k in sd):
        return dict(sd)
    n = len(_CHECKPOINT_PREFIX)
    return {
        k[n:]: v for k, v in sd.items() if isinstance(k, str) and k.startswith(_CHECKPOINT_PREFIX)
    }


def _shape(sd: Mapping[str, Any], key: str) -> tuple[int, ...]:
    shape = getattr(sd[key], "shape", None)
    if shape is None:
        raise ValueError(f"state dict entry {key!r} is not a tensor")
    return tuple(shape)


def _count(sd: Mapping[str, Any], pattern: str) -> int:
    """Number of consecutive indices i from 0 for which ``pattern.format(i)`` is a key."""
    n = 0
    while pattern.format(n) in sd:
        n += 1
    return n


def _attention_levels(sd: Mapping[str, Any], part: str, n_levels: int) -> list[int]:
    container = "down" if part == "encoder" else "up"
    return [i for i in range(n_levels) if f"{part}.{container}.{i}.attn.0.q.weight" in sd]


def _extra_decoder_scales(enc_levels: list[int], dec_levels: list[int]) -> int:
    if dec_levels == enc_levels:
        return 0
    # With one encoder attention level the decoder adds exactly one level, 2**n times larger.
    extra = sorted(set(dec_levels) - set(enc_levels))
    single = len(enc_levels) == 1 and len(extra) == 1 and extra[0] < enc_levels[0]
    if single and set(dec_levels) == {enc_levels[0], extra[0]}:
        return enc_levels[0] - extra[0]
    raise ValueError(
        f"unsupported attention layout (encoder levels {enc_levels}, decoder levels {dec_levels})"
    )


def restoreformer_config_from_state_dict(sd: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments of :class:`RestoreFormerPP` for a bare state dict.

    The number of heads is not visible in tensor shapes: RestoreFormer++ (4 heads) is recognised by
    its extra decoder attention scale, everything else is taken as RestoreFormer (8 heads).
    """
    missing = [k for k in _SIGNATURE_KEYS if k not in sd]
    if missing:
        raise ValueError(
            "not a RestoreFormer / RestoreFormer++ state dict "
            f"(missing {', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})"
        )
    ch, in_channels = _shape(sd, "encoder.conv_in.weight")[:2]
    n_levels = _count(sd, "encoder.down.{}.block.0.conv1.weight")
    num_res_blocks = _count(sd, "encoder.down.0.block.{}.conv1.weight")
    if n_levels == 0 or num_res_blocks == 0:
        raise ValueError("not a RestoreFormer / RestoreFormer++ state dict (no encoder levels)")
    widths = [_shape(sd, f"encoder.down.{i}.block.0.conv1.weight")[0] for i in range(n_levels)]
    if any(w % ch for w in widths):
        raise ValueError(f"level widths {widths} are not multiples of the stem width {ch}")
    enc_levels = _attention_levels(sd, "encoder", n_levels)
    dec_levels = _attention_levels(sd, "decoder", n_levels)
    if not enc_levels:
        raise ValueError("not a RestoreFormer / RestoreFormer++ state dict (no encoder attention)")
    extra_scales = _extra_decoder_scales(enc_levels, dec_levels)
    n_embed, embed_dim = _shape(sd, "quantize.embedding.weight")
    return {
        "head_size": _HEADS_PLUS_PLUS if extra_scales else _HEADS_PLAIN,
        "ex_multi_scale_num": extra_scales,
        "n_embed": n_embed,
        "embed_dim": embed_dim,
        "ch": ch,
        "out_ch": _shape(sd, "decoder.conv_out.weight")[0],
        "ch_mult": tuple(w // ch for w in widths),
        "num_res_blocks": num_res_blocks,
        "attn_resolutions": tuple(_TRAINING_RESOLUTION // 2**i for i in enc_levels),
        "in_channels": in_channels,
        "resolution": _TRAINING_RESOLUTION,
        "z_channels": _shape(sd, "decoder.conv_in.weight")[1],
    }


def looks_like_restoreformer_pp(sd: Mapping[str, Any]) -> bool:
    """True only for RestoreFormer++ (bare or wrapped); False for RestoreFormer and the rest."""
    try:
        config = restoreformer_config_from_state_dict(unwrap_restoreformer_checkpoint(sd))
    except ValueError:
        return False
    return config["ex_multi_scale_num"] > 0


def build_restoreformer(sd: Mapping[str, Any]) -> RestoreFormerPP:
    """Unwrap, infer the configuration, load strictly and return the model in eval mode."""
    bare = unwrap_restoreformer_checkpoint(sd)
    model = RestoreFormerPP(**restoreformer_config_from_state_dict(bare))
    try:
        model.load_state_dict(bare, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"state dict does not fit the inferred RestoreFormer model: {exc}"
        ) from exc
    return model.eval()
