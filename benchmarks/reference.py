"""The reference pipeline: facexlib's FaceRestoreHelper driven the way GFPGAN's inference script
(`GFPGANer.enhance`) and CodeFormer's (`inference_codeformer.py`) drive it.

Kept as the scripts have it: upscale factor, face_size=512, crop_ratio (1, 1), use_parse=True
(ParseNet masks), save_ext png, detection at full resolution (CodeFormer: resize=640) with
eye_dist_threshold=5, one face at a time through the network with the official conventions
(BGR uint8 -> RGB [-1, 1]; output clamped to [-1, 1] -> BGR uint8 as basicsr's tensor2img does),
full-image warps and blends per face in `paste_faces_to_input_image`.

Only what cannot be had offline differs: facexlib's RetinaFace('mobile0.25') is built as-is
(LeakyReLU, its anchors) and given the shipped MobileNet weights, with a threshold suited to them
(facexlib's hard-coded 0.97 misses most faces with these weights); ParseNet and the face network
get the golden weights. The face network is built by spandrel, as faceapp builds it, from the
same file, and its inner module is called the official way here.
"""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import torch
from torchvision.transforms.functional import normalize

from benchmarks.timing import Stopwatch, synchronize
from faceapp.core.models.loading import load_face_model

REPO = Path(__file__).resolve().parents[1]
SHIPPED_DETECTOR = REPO / "resources" / "weights" / "retinaface_mobilenet0.25.pth"
# Chosen with `python benchmarks/detections.py --sweep` on the 51 labelled faces of
# tests/test_detection.py: the best F1 of each variant (facexlib's hard-coded 0.97 finds 3).
THRESHOLDS = {"as-is": 0.9, "as-trained": 0.95}
# What each script passes to get_face_landmarks_5 besides only_center_face.
DETECT_KWARGS = {
    "GFPGAN": {"eye_dist_threshold": 5},
    "CodeFormer": {"resize": 640, "eye_dist_threshold": 5},
}


class ThresholdedDetector:
    """facexlib's RetinaFace with the helper's hard-coded 0.97 replaced by our threshold."""

    def __init__(self, net: torch.nn.Module, threshold: float) -> None:
        self.net = net
        self.threshold = threshold

    def detect_faces(self, image: np.ndarray, conf_threshold: float = 0.8, nms_threshold=0.4):
        return self.net.detect_faces(image, self.threshold, nms_threshold, use_origin_size=True)


class TimedParser:
    """The helper's ParseNet, timing its calls into the current Stopwatch's details ("parse",
    a part of "paste")."""

    def __init__(self, net: torch.nn.Module) -> None:
        self.net = net
        self.watch: Stopwatch | None = None

    def __call__(self, x: torch.Tensor):
        start = time.perf_counter()
        out = self.net(x)
        if self.watch is not None:
            synchronize(self.watch.device)
            parse = self.watch.details.get("parse", 0.0)
            self.watch.details["parse"] = parse + time.perf_counter() - start
        return out


def build_retinaface(device: torch.device, as_trained: bool = False) -> torch.nn.Module:
    """RetinaFace('mobile0.25') exactly as facexlib's init_detection_model builds it.

    as_trained: with the ReLUs and anchors the shipped weights were trained with (biubug6's
    Face-Detector-1MB). As-is, facexlib's LeakyReLUs and larger anchors leave this network
    finding 16 of 51 labelled faces at best (benchmarks/detections.py), so the timed reference
    uses it as trained by default: otherwise the two sides would restore different faces.
    """
    from facexlib.detection.retinaface import RetinaFace

    net = RetinaFace(network_name="mobile0.25", half=False, device=device)
    state = torch.load(SHIPPED_DETECTOR, map_location="cpu", weights_only=True)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    net.load_state_dict(state, strict=True)
    if as_trained:
        for module in net.modules():
            if isinstance(module, torch.nn.LeakyReLU):
                module.negative_slope = 0.0
        net.cfg = {**net.cfg, "min_sizes": [[10, 20], [32, 64], [128, 256]]}
    return net.eval().to(device)


def build_parsenet(weights: Path, device: torch.device) -> torch.nn.Module:
    """ParseNet exactly as facexlib's init_parsing_model('parsenet') builds it."""
    from facexlib.parsing.parsenet import ParseNet

    net = ParseNet(in_size=512, out_size=512, parsing_ch=19)
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return net.eval().to(device)


def make_helper(upscale: int, device: torch.device, detector, parser):
    """FaceRestoreHelper with GFPGANer's arguments; its model downloads replaced by our models."""
    from facexlib.utils import face_restoration_helper as frh

    with (
        mock.patch.object(frh, "init_detection_model", lambda *a, **k: detector),
        mock.patch.object(frh, "init_parsing_model", lambda *a, **k: parser),
    ):
        return frh.FaceRestoreHelper(
            upscale,
            face_size=512,
            crop_ratio=(1, 1),
            det_model="retinaface_mobile0.25",
            save_ext="png",
            use_parse=True,
            device=device,
        )


def tensor2img(tensor: torch.Tensor, min_max=(-1, 1)) -> np.ndarray:
    """basicsr.utils.tensor2img for one CHW RGB tensor, rgb2bgr=True, out_type uint8."""
    t = tensor.squeeze(0).float().detach().cpu().clamp_(*min_max)
    t = (t - min_max[0]) / (min_max[1] - min_max[0])
    image = cv2.cvtColor(t.numpy().transpose(1, 2, 0), cv2.COLOR_RGB2BGR)
    return (image * 255.0).round().astype(np.uint8)


class ReferencePipeline:
    """One helper and one network, reused photo after photo, as the scripts do."""

    def __init__(
        self,
        face_weights: Path,
        parse_weights: Path,
        upscale: int,
        device: torch.device,
        detector: str = "as-trained",
        fidelity: float = 0.5,
    ) -> None:
        self.device, self.upscale, self.fidelity = device, upscale, fidelity
        net = build_retinaface(device, as_trained=detector == "as-trained")
        detector = ThresholdedDetector(net, THRESHOLDS[detector])
        self.parser = TimedParser(build_parsenet(parse_weights, device))
        self.helper = make_helper(upscale, device, detector, self.parser)
        face_model = load_face_model(face_weights)
        self.arch = face_model.arch
        self.net = face_model.module.to(device).eval()

    def detect(self, image: np.ndarray) -> int:
        """The faces the script would restore in a BGR photo."""
        self.helper.clean_all()
        self.helper.read_image(image)
        return self.helper.get_face_landmarks_5(only_center_face=False, **DETECT_KWARGS[self.arch])

    def run(self, path: Path, out_dir: Path, watch: Stopwatch) -> int:
        """The whole script on one photo; returns the number of faces restored."""
        self.parser.watch = watch
        with watch.stage("load"):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        with watch.stage("detect"):
            faces = self.detect(image)
        with watch.stage("align"):
            self.helper.align_warp_face()
        with watch.stage("restore"):
            for cropped in self.helper.cropped_faces:
                self.helper.add_restored_face(self.restore_face(cropped))
        with watch.stage("background"):
            # The script's "no bg_upsampler" Lanczos resize, done here so it is timed apart;
            # paste_faces_to_input_image's own resize to the same size is then a plain copy.
            h, w = image.shape[:2]
            size = (int(w * self.upscale), int(h * self.upscale))
            background = cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4)
        with watch.stage("paste"):
            self.helper.get_inverse_affine(None)
            restored = self.helper.paste_faces_to_input_image(upsample_img=background)
        with watch.stage("write"):
            cv2.imwrite(str(out_dir / f"{path.stem}_reference{path.suffix}"), restored)
        return faces

    @torch.no_grad()
    def restore_face(self, cropped: np.ndarray) -> np.ndarray:
        """One aligned BGR uint8 face through the network, the scripts' way."""
        from facexlib.utils.misc import img2tensor

        x = img2tensor(cropped / 255.0, bgr2rgb=True, float32=True)
        normalize(x, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), inplace=True)
        x = x.unsqueeze(0).to(self.device)
        if self.arch == "CodeFormer":
            output = self.net(x, weight=self.fidelity)[0]  # spandrel's name for CodeFormer's w
        else:
            # GFPGANer passes weight=0.5 (ignored by the net); randomize_noise=False makes both
            # sides compute the same deterministic face (the script's default randomises it).
            output = self.net(x, return_rgb=False, weight=0.5, randomize_noise=False)[0]
        return tensor2img(output, min_max=(-1, 1)).astype("uint8")
