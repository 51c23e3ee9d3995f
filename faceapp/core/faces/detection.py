"""Face detection across scales with RetinaFace (facexlib's network, the shipped MobileNet weights).

RetinaFace's anchors cover faces of roughly 16 to 400 pixels at the resolution it is run on, and
the MobileNet-0.25 variant scores large faces poorly at full resolution. So the photo is run
through a small pyramid (full size capped, then halves) and the detections of every level are
merged with non-maximum suppression.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch

from faceapp.core import paths
from faceapp.core.faces.selection import Face, in_reading_order
from faceapp.core.models.weights import load_state_dict
from faceapp.core.progress import CancelToken, ProgressCallback, run_steps

SHIPPED_DETECTOR = "weights/retinaface_mobilenet0.25.pth"
ANCHOR_SIZES = [[10, 20], [32, 64], [128, 256]]
COARSE_MIN_SIDE = 48  # pixels at the level's resolution
FINE_MAX_SIDE = 160
CONFIRM_SIZES = (64, 96, 128)  # face size in pixels for the second look


@dataclass(frozen=True)
class DetectionSettings:
    threshold: float = 0.97  # accepted at once; calibrated on the shared photos
    candidate: float = 0.6  # from here up to `threshold`, a face must be confirmed
    confirm: float = 0.95  # median score of the confirmation crops
    nms_iou: float = 0.4
    max_side: int = 2560  # the finest pyramid level: longest side in pixels
    min_side: int = 160  # the coarsest level
    min_face: float = 10.0  # faces smaller than this (pixels) are ignored


class FaceDetector:
    """Finds faces in RGB photos. Not thread-safe: one per inference thread."""

    def __init__(
        self,
        weights: str | Path | None = None,
        device: torch.device | str = "cpu",
        settings: DetectionSettings | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.settings = settings or DetectionSettings()
        self.weights = Path(weights or paths.resource(SHIPPED_DETECTOR))
        self.net = _build_retinaface(self.weights, self.device)
        # A compiled forward of any image size (core/runtime/compiled.py): (loc, conf, landms)
        self.compiled: Callable[[torch.Tensor], tuple | None] | None = None

    def detect(
        self,
        rgb: np.ndarray,
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[Face]:
        """Faces in an H x W x 3 RGB image (uint8, uint16 or float in [0, 1]).

        `progress` hears the fraction done (the pyramid is the first half, the second looks at
        doubtful faces the rest: a crowd can take long); `cancel` is checked between steps."""
        return run_steps(self.detect_steps(rgb), cancel, progress)

    def detect_steps(self, rgb: np.ndarray) -> Generator[float, None, list[Face]]:
        """`detect` as a generator: it yields the fraction done between steps (one pyramid
        level, one second look) and returns the faces, so a caller can pause a long detection
        for a more urgent one and resume it later."""
        bgr = _to_bgr255(rgb)
        found = []
        scales = pyramid_scales(bgr.shape[:2], self.settings)
        for level, scale in enumerate(scales):
            yield 0.5 * level / len(scales)
            # Each level keeps the face sizes it sees best: small faces belong to the finer
            # levels, large ones to the coarser; outside its window a level mostly finds noise.
            low = COARSE_MIN_SIDE if level else 0
            high = np.inf if level == len(scales) - 1 else FINE_MAX_SIDE
            found.append(self._detect_at(bgr, scale, min_net_side=low, max_net_side=high))
        rows = _nms(np.concatenate(found), self.settings.nms_iou)
        doubtful = max(1, int((rows[:, 4] < self.settings.threshold).sum()))
        kept, looked = [], 0
        for row in rows:
            if row[4] < self.settings.threshold:
                yield 0.5 + 0.5 * looked / doubtful
                looked += 1
                if not self._confirm(bgr, row):
                    continue
            kept.append(row)
        yield 1.0
        return in_reading_order(self._to_faces(np.array(kept).reshape(-1, 15)))

    def _confirm(self, bgr: np.ndarray, row: np.ndarray) -> bool:
        """Look again at a doubtful face, cropped around it at three sizes where RetinaFace
        works best; real faces then score high at most sizes, textures and animals do not."""
        x1, y1, x2, y2 = row[:4]
        side = max(x2 - x1, y2 - y1, 1.0)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left, top = int(max(0, cx - 1.5 * side)), int(max(0, cy - 1.5 * side))
        crop = bgr[top : int(cy + 1.5 * side), left : int(cx + 1.5 * side)]
        scores = []
        for target in CONFIRM_SIZES:
            rows = self._detect_at(crop, target / side, threshold=0.01)
            rows[:, [0, 2]] += left
            rows[:, [1, 3]] += top
            overlapping = rows[_iou(row[:4], rows[:, :4]) > 0.4]
            scores.append(float(overlapping[:, 4].max()) if len(overlapping) else 0.0)
        return float(np.median(scores)) >= self.settings.confirm

    def detect_in_box(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> Face | None:
        """The most likely face inside a box the user drew (for faces the detector missed)."""
        x1, y1, x2, y2 = _clip_box(box, rgb.shape[1], rgb.shape[0])
        margin = int(0.25 * max(x2 - x1, y2 - y1))
        cx1, cy1 = max(0, x1 - margin), max(0, y1 - margin)
        crop = rgb[cy1 : min(rgb.shape[0], y2 + margin), cx1 : min(rgb.shape[1], x2 + margin)]
        bgr = _to_bgr255(crop)
        target = 320 / max(bgr.shape[:2])
        rows = self._detect_at(bgr, target, threshold=0.05)
        if not len(rows):
            return None
        best = rows[np.argmax(rows[:, 4])]
        best[[0, 2, 5, 7, 9, 11, 13]] += cx1
        best[[1, 3, 6, 8, 10, 12, 14]] += cy1
        face = self._to_faces(best[None])[0]
        return Face(box=(x1, y1, x2, y2), score=face.score, landmarks=face.landmarks, manual=True)

    @torch.inference_mode()
    def _detect_at(
        self,
        bgr: np.ndarray,
        scale: float,
        threshold: float | None = None,
        min_net_side: float = 0,
        max_net_side: float = np.inf,
    ):
        threshold = self.settings.candidate if threshold is None else threshold
        image = bgr if scale == 1 else _resize(bgr, scale)
        boxes, landmarks, scores = _run_net(self.net, image, self.device, self.compiled)
        side = np.sqrt(((boxes[:, 2:] - boxes[:, :2]).clip(0)).prod(axis=1))
        keep = (scores > threshold) & (side >= min_net_side) & (side <= max_net_side)
        keep &= plausible_landmarks(boxes, landmarks)
        rows = np.hstack([boxes[keep], scores[keep, None], landmarks[keep]]).astype(np.float32)
        rows[:, :4] /= scale
        rows[:, 5:] /= scale
        return rows

    def _to_faces(self, rows: np.ndarray) -> list[Face]:
        faces = []
        for row in rows:
            face = Face(
                box=tuple(float(v) for v in row[:4]),
                score=float(row[4]),
                landmarks=row[5:15].reshape(5, 2).astype(np.float64),
            )
            if face.size >= self.settings.min_face:
                faces.append(face)
        return faces


def pyramid_scales(shape: tuple[int, int], settings: DetectionSettings) -> list[float]:
    """Scale factors from the finest level (longest side <= max_side) down to ~min_side."""
    longest = max(shape)
    scale = min(1.0, settings.max_side / longest)
    if longest * scale < settings.min_side:
        scale = settings.min_side / longest  # small photos are enlarged once
    scales = [scale]
    while longest * scales[-1] / 2 >= settings.min_side:
        scales.append(scales[-1] / 2)
    return scales


def plausible_landmarks(boxes: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Rows whose five points look like a face: eyes above the mouth, the mouth corners and eyes
    in the right left/right order, all points near the box."""
    pts = landmarks.reshape(-1, 5, 2)
    w = (boxes[:, 2] - boxes[:, 0]).clip(1e-6)
    h = (boxes[:, 3] - boxes[:, 1]).clip(1e-6)
    eyes_y = (pts[:, 0, 1] + pts[:, 1, 1]) / 2
    mouth_y = (pts[:, 3, 1] + pts[:, 4, 1]) / 2
    upright = mouth_y - eyes_y > 0.15 * h
    ordered = (pts[:, 1, 0] > pts[:, 0, 0]) & (pts[:, 4, 0] > pts[:, 3, 0])
    inside_x = ((pts[..., 0] - boxes[:, None, 0]) / w[:, None]).clip(-1, 2)
    inside_y = ((pts[..., 1] - boxes[:, None, 1]) / h[:, None]).clip(-1, 2)
    near = ((inside_x > -0.1) & (inside_x < 1.1) & (inside_y > -0.1) & (inside_y < 1.1)).all(1)
    return upright & ordered & near


def _build_retinaface(weights: str | Path, device: torch.device) -> torch.nn.Module:
    from facexlib.detection.retinaface import RetinaFace

    net = RetinaFace(network_name="mobile0.25", half=False, device=device)
    net.load_state_dict(load_state_dict(weights), strict=True)
    # The shipped weights come from biubug6's Face-Detector-1MB: the same layers as facexlib's
    # mobile0.25, but trained with plain ReLUs (facexlib's has leaky ones) and smaller anchors.
    for module in net.modules():
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = 0.0
    net.cfg = {**net.cfg, "min_sizes": ANCHOR_SIZES}
    return net.to(device).eval()


def _run_net(net: torch.nn.Module, bgr: np.ndarray, device: torch.device, compiled=None):
    from facexlib.detection.retinaface_utils import decode, decode_landm

    h, w = bgr.shape[:2]
    x = torch.from_numpy(bgr.transpose(2, 0, 1)).unsqueeze(0).to(device)
    x = x - torch.tensor([104.0, 117.0, 123.0], device=device).view(1, 3, 1, 1)
    loc, conf, landms = (compiled(x) if compiled is not None else None) or net(x)
    priors = torch.tensor(prior_boxes(net.cfg, h, w), device=device)
    variance = net.cfg["variance"]
    boxes = decode(loc[0], priors, variance) * torch.tensor([w, h] * 2, device=device)
    marks = decode_landm(landms[0], priors, variance) * torch.tensor([w, h] * 5, device=device)
    return boxes.cpu().numpy(), marks.cpu().numpy(), conf[0, :, 1].cpu().numpy()


def prior_boxes(cfg: dict, height: int, width: int) -> np.ndarray:
    """facexlib's PriorBox(cfg, (height, width)).forward(), bit for bit, without its Python
    loop over every anchor (half a second for each 2000-pixel pyramid level)."""
    return _prior_boxes(
        tuple(map(tuple, cfg["min_sizes"])), tuple(cfg["steps"]), bool(cfg["clip"]), height, width
    )


@lru_cache(maxsize=32)
def _prior_boxes(min_sizes, steps, clip: bool, height: int, width: int) -> np.ndarray:
    levels = []
    for sizes, step in zip(min_sizes, steps, strict=True):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        # the same float64 operations, in the same order, as facexlib's loop
        cx = (np.arange(cols) + 0.5) * step / width
        cy = (np.arange(rows) + 0.5) * step / height
        grid = np.empty((rows, cols, len(sizes), 4), np.float64)
        grid[..., 0] = cx[None, :, None]
        grid[..., 1] = cy[:, None, None]
        grid[..., 2] = np.array([size / width for size in sizes])
        grid[..., 3] = np.array([size / height for size in sizes])
        levels.append(grid.reshape(-1, 4))
    priors = np.concatenate(levels).astype(np.float32)
    if clip:
        np.clip(priors, 0, 1, out=priors)
    priors.setflags(write=False)
    return priors


def _nms(rows: np.ndarray, iou_threshold: float) -> np.ndarray:
    if not len(rows):
        return rows
    rows = rows[np.argsort(-rows[:, 4])]
    x1, y1, x2, y2 = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    areas = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    keep: list[int] = []
    suppressed = np.zeros(len(rows), bool)
    for i in range(len(rows)):
        if suppressed[i]:
            continue
        keep.append(i)
        iw = (np.minimum(x2[i], x2) - np.maximum(x1[i], x1)).clip(0)
        ih = (np.minimum(y2[i], y2) - np.maximum(y1[i], y1)).clip(0)
        inter = iw * ih
        # Intersection over the smaller box too: a face part found at one level inside a
        # whole face found at another is the same face.
        overlap = np.maximum(
            inter / (areas[i] + areas - inter + 1e-9),
            inter / (np.minimum(areas[i], areas) + 1e-9) * 0.5,
        )
        suppressed |= overlap > iou_threshold
    return rows[keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    iw = (np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])).clip(0)
    ih = (np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])).clip(0)
    inter = iw * ih
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + areas - inter + 1e-9)


def _to_bgr255(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        image = rgb.astype(np.float32)
    elif rgb.dtype == np.uint16:
        image = rgb.astype(np.float32) / 257.0
    else:
        image = rgb.astype(np.float32) * 255.0
    return np.ascontiguousarray(image[..., 2::-1])


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def _clip_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, x2 = sorted((max(0, min(width, x1)), max(0, min(width, x2))))
    y1, y2 = sorted((max(0, min(height, y1)), max(0, min(height, y2))))
    if x2 - x1 < 4 or y2 - y1 < 4:
        raise ValueError("The box is too small to hold a face.")
    return x1, y1, x2, y2
