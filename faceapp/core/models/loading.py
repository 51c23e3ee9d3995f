"""Loading model files into callable models, with each architecture's official conventions.

Face models take and return RGB in [-1, 1] (NCHW float); background upscalers take and return
RGB in [0, 1]; the inpainter (LaMa) takes RGB in [0, 1] and a 0/1 mask; the colorizer (DDColor)
takes a grey RGB picture in [0, 1] and returns Lab a/b. The architecture is recognised from the
weights themselves, so any checkpoint as users download it works (GFPGAN/CodeFormer
`params_ema`, RestoreFormer++ and LaMa Lightning `.ckpt`, DDColor `params`...).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from faceapp.core.errors import ModelLoadError, UnsupportedModelError
from faceapp.core.models.weights import StateDict, load_checkpoint, unwrap_state_dict

FACE = "face"
BACKGROUND = "background"
DETECTOR = "detector"
PARSER = "parser"
INPAINT = "inpaint"  # whole photos: LaMa
COLOUR = "colour"  # whole photos: DDColor

_SPANDREL_FACE = {"GFPGAN": "GFPGAN", "CodeFormer": "CodeFormer", "RestoreFormer": "RestoreFormer"}
_spandrel_lock = threading.Lock()
_spandrel_ready = False


@dataclass
class FaceModel:
    arch: str  # GFPGAN, CodeFormer, RestoreFormer, RestoreFormer++, GPEN, HiFaceGAN
    input_size: int
    module: nn.Module
    call: Callable[[nn.Module, Tensor, float], Tensor]
    has_fidelity: bool = False
    supports_half: bool = False
    # A compiled forward (core/runtime/compiled.py) returning None for what it cannot run
    compiled: Callable[[Tensor, float], Tensor | None] | None = None

    def __call__(self, x: Tensor, fidelity: float = 0.5) -> Tensor:
        """Restore aligned faces: (N, 3, S, S) RGB in [-1, 1] -> same shape, unclamped."""
        if self.compiled is not None:
            y = self.compiled(x, fidelity)
            if y is not None:
                return y
        return self.call(self.module, x, fidelity)

    @property
    def runtime(self) -> str:
        """The runtime of its forward at its own size: "PyTorch" or the compiled one's name."""
        return getattr(self.compiled, "runtime", "PyTorch") if self.compiled else "PyTorch"

    def to(self, device: torch.device) -> FaceModel:
        self.module.to(device)
        return self

    def accepts(self, size: int) -> bool:
        """Whether the network can run on a size x size crop as it is."""
        if self.arch.startswith("RestoreFormer"):
            return size % 32 == 0 and size >= 64
        return size == self.input_size


@dataclass
class UpscaleModel:
    arch: str
    scale: int
    module: nn.Module
    supports_half: bool = False
    compiled: Callable[[Tensor], Tensor | None] | None = None  # as FaceModel.compiled

    def __call__(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) RGB in [0, 1] -> (N, 3, H*scale, W*scale) in [0, 1]."""
        y = self.compiled(x) if self.compiled is not None else None
        return y if y is not None else self.module(x).clamp_(0, 1)

    def to(self, device: torch.device) -> UpscaleModel:
        self.module.to(device)
        return self


@dataclass
class InpaintModel:
    """LaMa: the network only; padding and masking conventions live in core/repair/lama.py."""

    arch: str
    module: nn.Module  # spandrel's LaMa; module.model.model is the generator's Sequential
    compiled: Callable[[Tensor, Tensor], Tensor | None] | None = None  # for its fixed cell

    def logits(self, image: Tensor, mask: Tensor) -> Tensor:
        """Pre-sigmoid prediction for (N,3,H,W) RGB in [0,1] and a (N,1,H,W) 0/1 mask."""
        layers = self.module.model.model
        return layers[:-1](torch.cat([image * (1 - mask), mask], dim=1))

    def __call__(self, image: Tensor, mask: Tensor) -> Tensor:
        """The official composite: the prediction inside the mask, the image outside it."""
        y = self.compiled(image, mask) if self.compiled is not None else None
        return y if y is not None else composite(image, mask, self.logits(image, mask))

    @property
    def runtime(self) -> str:
        return getattr(self.compiled, "runtime", "PyTorch") if self.compiled else "PyTorch"

    def to(self, device: torch.device) -> InpaintModel:
        self.module.to(device)
        return self


def composite(image: Tensor, mask: Tensor, logits: Tensor) -> Tensor:
    """LaMa's output: its sigmoid prediction inside the mask, the image outside it."""
    return mask * torch.sigmoid(logits) + (1 - mask) * image


@dataclass
class ColorizeModel:
    """DDColor: (N,3,S,S) grey RGB in [0,1] -> (N,2,S,S) Lab a/b (OpenCV float scale)."""

    arch: str
    encoder: str  # convnext-t or convnext-l
    module: nn.Module
    compiled: Callable[[Tensor], Tensor | None] | None = None  # for its S x S input

    def __call__(self, x: Tensor) -> Tensor:
        y = self.compiled(x) if self.compiled is not None else None
        return y if y is not None else self.module(x)  # normalises with the file's mean/std

    @property
    def runtime(self) -> str:
        return getattr(self.compiled, "runtime", "PyTorch") if self.compiled else "PyTorch"

    @property
    def variant(self) -> str:
        """DDColor-tiny (ConvNeXt-T) or DDColor-large (ConvNeXt-L), as the catalog names it."""
        return f"{self.arch}-{'tiny' if self.encoder.endswith('-t') else 'large'}"

    def to(self, device: torch.device) -> ColorizeModel:
        self.module.to(device)
        return self


@dataclass(frozen=True)
class ModelFileInfo:
    purpose: str  # FACE, BACKGROUND, DETECTOR, PARSER, INPAINT, COLOUR
    arch: str
    input_size: int | None = None
    scale: int | None = None


def load_face_model(path: str | Path) -> FaceModel:
    """A face restoration model from a file (on the CPU, eval mode, float32)."""
    return _load_as(path, FaceModel, "a face restoration model")


def load_upscale_model(path: str | Path) -> UpscaleModel:
    """A background upscaler (Real-ESRGAN family) from a file."""
    return _load_as(path, UpscaleModel, "a background upscaler")


def load_inpaint_model(path: str | Path) -> InpaintModel:
    """An inpainting model (LaMa) from a file, e.g. big-lama's Lightning `best.ckpt`."""
    return _load_as(path, InpaintModel, "an inpainting model (LaMa)")


def load_colorize_model(path: str | Path) -> ColorizeModel:
    """A colorization model (DDColor) from a file."""
    return _load_as(path, ColorizeModel, "a colorization model (DDColor)")


def _load_as(path: str | Path, kind: type, what: str):
    model = _load_any(path)
    if not isinstance(model, kind):
        raise UnsupportedModelError(f"'{Path(path).name}' is a {_describe(model)}, not {what}.")
    return model


def identify_model_file(path: str | Path) -> ModelFileInfo:
    """What a file is, without keeping the model (for imports)."""
    model = _load_any(path)
    if isinstance(model, FaceModel):
        return ModelFileInfo(FACE, model.arch, input_size=model.input_size)
    if isinstance(model, UpscaleModel):
        return ModelFileInfo(BACKGROUND, model.arch, scale=model.scale)
    if isinstance(model, InpaintModel):
        return ModelFileInfo(INPAINT, model.arch)
    if isinstance(model, ColorizeModel):
        return ModelFileInfo(COLOUR, model.variant)
    return model


AnyModel = FaceModel | UpscaleModel | InpaintModel | ColorizeModel | ModelFileInfo


def _load_any(path: str | Path) -> AnyModel:
    name = Path(path).name
    sd = _strip_lightning(unwrap_state_dict(load_checkpoint(path), name=name))
    try:
        return build_from_state_dict(sd)
    except UnsupportedModelError as error:
        raise UnsupportedModelError(f"'{name}': {error}") from None
    except (RuntimeError, ValueError, KeyError) as error:
        raise ModelLoadError(
            f"'{name}' looks like a model but its weights do not fit the architecture ({error})."
        ) from error


def build_from_state_dict(sd: StateDict) -> AnyModel:
    """Recognise the architecture of a bare state dict and build it."""
    from faceapp.core.models.archs.gpen import build_gpen, looks_like_gpen
    from faceapp.core.models.archs.hifacegan import build_hifacegan, looks_like_hifacegan_family
    from faceapp.core.models.archs.restoreformer_pp import (
        build_restoreformer,
        looks_like_restoreformer_pp,
    )

    if looks_like_gpen(sd):
        net = build_gpen(sd)
        return FaceModel("GPEN", net.size, net, _call_plain, supports_half=False)
    if looks_like_restoreformer_pp(sd):
        return FaceModel("RestoreFormer++", 512, build_restoreformer(sd), _call_plain)
    if looks_like_hifacegan_family(sd):
        return FaceModel("HiFaceGAN", 512, build_hifacegan(sd), _call_unit_range)
    other = _recognise_non_restorer(sd)
    if other:
        return other
    return _build_with_spandrel(sd)


def _build_with_spandrel(sd: StateDict) -> FaceModel | UpscaleModel | InpaintModel | ColorizeModel:
    import spandrel

    _install_spandrel_extras()
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(sd)
    except spandrel.UnsupportedModelError:
        raise UnsupportedModelError(
            "this file is not a face restoration or upscaling model faceapp supports."
        ) from None
    arch = descriptor.architecture.id
    module = descriptor.model.eval()
    half = bool(descriptor.supports_half)
    if arch == "LaMa":
        return InpaintModel(arch, module)
    if arch == "DDColor":
        encoder = next((t for t in descriptor.tags if t.startswith("convnext")), "convnext")
        return ColorizeModel(arch, encoder, module)
    if arch in _SPANDREL_FACE:
        return FaceModel(
            arch, 512, module, _FACE_CALLS[arch], arch == "CodeFormer", supports_half=half
        )
    is_image = isinstance(descriptor, spandrel.ImageModelDescriptor)
    if is_image and descriptor.scale > 1 and descriptor.input_channels == 3:
        return UpscaleModel(arch, descriptor.scale, module, supports_half=half)
    raise UnsupportedModelError(
        f"this is a {arch} model ({descriptor.purpose}, x{descriptor.scale}), which faceapp "
        "cannot use for faces or backgrounds."
    )


def _recognise_non_restorer(sd: Mapping[str, Tensor]) -> ModelFileInfo | None:
    keys = set(sd)
    if any(k.startswith("ClassHead.") for k in keys) and any(k.startswith("body.") for k in keys):
        arch = "RetinaFace-R50" if "body.layer2.0.conv1.weight" in keys else "RetinaFace-MobileNet"
        return ModelFileInfo(DETECTOR, arch)
    if any(k.startswith("cp.") for k in keys) and any(k.startswith("conv_out.") for k in keys):
        return ModelFileInfo(PARSER, "BiSeNet")
    if any(k.startswith("encoder.") for k in keys) and any(
        k.startswith("out_mask_conv.") for k in keys
    ):
        return ModelFileInfo(PARSER, "ParseNet")
    return None


def _strip_lightning(sd: StateDict) -> StateDict:
    """Lightning checkpoints hold more than the network: keep only the network's keys.

    RestoreFormer++ stores it under `vqvae.`; LaMa's `best.ckpt` under `generator.` beside its
    evaluator nets (LPIPS, FID), which spandrel's strict load would refuse. spandrel recognises
    LaMa by the `generator.` prefix, so that one is kept.
    """
    if any(k.startswith("vqvae.") for k in sd):
        return {k[len("vqvae.") :]: v for k, v in sd.items() if k.startswith("vqvae.")}
    if "generator.model.1.ffc.convl2l.weight" in sd:
        return {k: v for k, v in sd.items() if k.startswith("generator.model.")}
    return sd


def _install_spandrel_extras() -> None:
    global _spandrel_ready
    with _spandrel_lock:
        if not _spandrel_ready:
            import spandrel_extra_arches

            spandrel_extra_arches.install(ignore_duplicates=True)
            _spandrel_ready = True


def _describe(model: AnyModel) -> str:
    if isinstance(model, ModelFileInfo):
        return f"{model.arch} {model.purpose} model"
    if isinstance(model, UpscaleModel):
        return f"{model.arch} background upscaler"
    if isinstance(model, InpaintModel):
        return f"{model.arch} inpainting model"
    if isinstance(model, ColorizeModel):
        return f"{model.arch} colorization model"
    return f"{model.arch} face model"


def _call_plain(module: nn.Module, x: Tensor, _fidelity: float) -> Tensor:
    return module(x)


def _call_unit_range(module: nn.Module, x: Tensor, _fidelity: float) -> Tensor:
    # HiFaceGAN reads RGB in [0, 1] and its image is the [0, 1] part of its tanh output.
    return module((x + 1) * 0.5) * 2 - 1


def _call_gfpgan(module: nn.Module, x: Tensor, _fidelity: float) -> Tensor:
    # GFPGAN's own `weight` is ignored by the network; strength is a blend done by the caller.
    return module(x, return_rgb=False, randomize_noise=False)[0]


def _call_codeformer(module: nn.Module, x: Tensor, fidelity: float) -> Tensor:
    return module(x, weight=float(fidelity))[0]


def _call_first(module: nn.Module, x: Tensor, _fidelity: float) -> Tensor:
    return module(x)[0]


_FACE_CALLS = {"GFPGAN": _call_gfpgan, "CodeFormer": _call_codeformer, "RestoreFormer": _call_first}
