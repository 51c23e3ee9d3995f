"""LaMa inpainting the way the official prediction script calls it.

The official code pads image and mask at the bottom/right to a multiple of 8 with numpy's
'symmetric' mode (edge pixels repeated), binarises the mask, composites the prediction into the
unmasked image and crops back. spandrel's own call pads with torch 'reflect', which differs.
"""

from __future__ import annotations

import numpy as np
import torch

from faceapp.core.models.loading import InpaintModel

MODULO = 8


def pad_to_modulo(chw: np.ndarray, modulo: int = MODULO) -> np.ndarray:
    """(C, H, W) padded at the bottom and right to multiples of `modulo` (numpy 'symmetric')."""
    height, width = chw.shape[-2:]
    pad_h, pad_w = -height % modulo, -width % modulo
    if not pad_h and not pad_w:
        return chw
    return np.pad(chw, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")


def network_inputs(
    image: np.ndarray, mask: np.ndarray, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(1,3,H8,W8) image and (1,1,H8,W8) 0/1 mask from HxWx3 RGB [0,1] and an HxW mask."""
    chw = pad_to_modulo(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))
    m = pad_to_modulo(np.asarray(mask, dtype=np.float32)[None])
    x = torch.from_numpy(np.ascontiguousarray(chw))[None]
    mk = torch.from_numpy((m > 0).astype(np.float32))[None]
    return x.to(device or "cpu"), mk.to(device or "cpu")


@torch.inference_mode()
def inpaint(model: InpaintModel, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """HxWx3 float32 RGB [0,1] with the masked pixels (mask > 0) filled in by LaMa."""
    device = next(model.module.parameters()).device
    x, mk = network_inputs(image, mask, device)
    out = model(x, mk)[0].permute(1, 2, 0)[: image.shape[0], : image.shape[1]]
    return out.float().cpu().numpy()
