"""Face parsing for the paste-back: which pixels of a restored face are face (skin, eyes, brows,
nose, mouth) and which are hair, neck, clothes or background, so that only the face itself is
blended into the photo and the photo keeps its own hair and outline.

The networks are facexlib's ParseNet and BiSeNet (19 CelebAMask-HQ labels, in a different order
for each). The mask follows facexlib's FaceRestoreHelper(use_parse=True): parse at 512, keep the
face labels, blur; here it is also limited to a wide oval so it never reaches the crop border,
and it is dropped (the plain oval is used) when the parse found almost no face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from faceapp.core.errors import ModelLoadError, UnsupportedModelError
from faceapp.core.faces.paste import face_mask
from faceapp.core.models.loading import PARSER, ModelFileInfo, build_from_state_dict
from faceapp.core.models.weights import load_state_dict

PARSE_SIZE = 512  # both networks were trained on 512 x 512 aligned faces

PARSENET_LABELS = (
    "background", "skin", "nose", "eyeglasses", "left_eye", "right_eye", "left_brow",
    "right_brow", "left_ear", "right_ear", "mouth", "upper_lip", "lower_lip", "hair", "hat",
    "earring", "necklace", "neck", "cloth",
)  # fmt: skip
BISENET_LABELS = (
    "background", "skin", "left_brow", "right_brow", "left_eye", "right_eye", "eyeglasses",
    "left_ear", "right_ear", "earring", "nose", "mouth", "upper_lip", "lower_lip", "neck",
    "necklace", "cloth", "hair", "hat",
)  # fmt: skip
# Glasses and ears stay: dropping glasses would punch holes over the eyes, and ears sit at the
# face's edge where the wide oval fades the mask anyway.
FACE_PARTS = frozenset(
    {
        "skin", "nose", "eyeglasses", "left_eye", "right_eye", "left_brow", "right_brow",
        "left_ear", "right_ear", "mouth", "upper_lip", "lower_lip",
    }
)  # fmt: skip

_BLUR_SIGMA = 11 * np.sqrt(2)  # at 512: facexlib blurs twice with sigma 11
_MIN_FACE_SHARE = 0.1  # of the plain oval's area; less means the parse failed


@dataclass
class FaceParser:
    arch: str  # "ParseNet" or "BiSeNet"
    module: nn.Module
    labels: tuple[str, ...]
    mean: tuple[float, float, float]  # input normalisation of RGB in [0, 1]
    std: tuple[float, float, float]
    compiled: Callable[[Tensor], Tensor | None] | None = None  # as FaceModel.compiled

    def __call__(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) normalised RGB -> (N, 19, H, W) label logits."""
        y = self.compiled(x) if self.compiled is not None else None
        return y if y is not None else self.logits(x)

    def logits(self, x: Tensor) -> Tensor:
        """PyTorch's forward."""
        return self.module(x)[0]  # ParseNet: (mask, image); BiSeNet: (out, out16, out32)

    def to(self, device: torch.device) -> FaceParser:
        self.module.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device


def face_weights(labels: tuple[str, ...]) -> np.ndarray:
    """1 for each label that is part of the face, 0 for the others, indexed by label."""
    return np.array([name in FACE_PARTS for name in labels], np.float32)


def load_face_parser(path: str | Path) -> FaceParser:
    """A face parser from a file (CPU, eval mode, float32), read through the safe loader."""
    name = Path(path).name
    sd = load_state_dict(path)
    info = build_from_state_dict(sd)
    if not isinstance(info, ModelFileInfo) or info.purpose != PARSER:
        raise UnsupportedModelError(f"'{name}' is not a face parsing model.")
    parser = _build(info.arch)
    try:
        parser.module.load_state_dict(sd, strict=True)
    except RuntimeError as error:
        raise ModelLoadError(
            f"'{name}' looks like a {info.arch} face parser but its weights do not fit ({error})."
        ) from error
    parser.module.float().eval()
    return parser


def _build(arch: str) -> FaceParser:
    if arch == "ParseNet":
        from facexlib.parsing.parsenet import ParseNet

        net = ParseNet(in_size=PARSE_SIZE, out_size=PARSE_SIZE, parsing_ch=19)
        return FaceParser(arch, net, PARSENET_LABELS, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    from facexlib.parsing.bisenet import BiSeNet

    imagenet = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    return FaceParser("BiSeNet", BiSeNet(num_class=19), BISENET_LABELS, *imagenet)


@torch.inference_mode()
def parse_labels(parser: FaceParser, face: np.ndarray) -> np.ndarray:
    """The label of every pixel of an aligned face (float RGB [0, 1]), at 512 x 512."""
    size = face.shape[0]
    if size != PARSE_SIZE:
        shrink = size > PARSE_SIZE
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        face = cv2.resize(face, (PARSE_SIZE, PARSE_SIZE), interpolation=interpolation)
    x = torch.from_numpy(np.ascontiguousarray(face.transpose(2, 0, 1), np.float32))
    mean = torch.tensor(parser.mean).view(3, 1, 1)
    std = torch.tensor(parser.std).view(3, 1, 1)
    x = ((x - mean) / std).unsqueeze(0).to(parser.device)
    logits = parser(x)
    return logits.argmax(dim=1)[0].to(torch.uint8).cpu().numpy()


def mask_from_labels(labels: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray | None:
    """A soft size x size paste-back mask (float32, 0..1) from a square label map.

    Face labels count 1, the rest 0; the edge is blurred in proportion to the face and the
    result is limited to a wide oval that fades out before the crop border. None when the map
    holds too little face to trust (the caller falls back to the plain oval).
    """
    mask = weights[labels].astype(np.float32)
    sigma = _BLUR_SIGMA * labels.shape[0] / PARSE_SIZE
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma, sigmaY=sigma)
    if mask.shape[0] != size:
        shrink = mask.shape[0] > size
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        mask = cv2.resize(mask, (size, size), interpolation=interpolation)
    mask = np.minimum(mask, envelope(size))
    if mask.sum() < _MIN_FACE_SHARE * face_mask(size).sum():
        return None
    return mask


def parsing_mask(parser: FaceParser, face: np.ndarray) -> np.ndarray | None:
    """The paste-back mask of a restored aligned face, or None to use the plain oval."""
    weights = face_weights(parser.labels)
    return mask_from_labels(parse_labels(parser, face), weights, face.shape[0])


@lru_cache(maxsize=8)
def envelope(size: int) -> np.ndarray:
    """A wide soft oval, zero at the crop border: wider than the plain oval, so that the parse
    decides the face's outline (chin, ears), but never the crop's square edge."""
    s = size / 512.0
    oval = np.zeros((size, size), np.float32)
    center, axes = (round(256 * s), round(264 * s)), (round(200 * s), round(216 * s))
    cv2.ellipse(oval, center, axes, 0, 0, 360, 1.0, thickness=-1, lineType=cv2.LINE_AA)
    oval = cv2.GaussianBlur(oval, (0, 0), sigmaX=10 * s, sigmaY=10 * s)
    edge = max(2, round(6 * s))
    oval[:edge], oval[-edge:], oval[:, :edge], oval[:, -edge:] = 0, 0, 0, 0
    oval.setflags(write=False)
    return oval
