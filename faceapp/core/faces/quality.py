"""Does a face need restoring? A quick estimate from its pixels, no model, a few milliseconds.

Restoration models are trained on degraded faces: given a face that is already clean they
over-smooth it and make it look artificial, and restoring twice makes it worse. So each face
gets a score in [0, 1] (1 = clean and sharp) from four measurements:

- sharpness: how much fine detail the aligned face holds compared with its coarser structure
  (a blurry or upsampled face has almost no energy in the finest band);
- noise: the grain left in flat skin (Immerkær's fast estimate);
- blockiness: JPEG's 8 x 8 grid, seen as steps on block borders in the photo's own pixels;
- resolution: the face's size in the original photo's pixels.

The thresholds were calibrated on the shared test photos (see `benchmarks/quality_calibration.py`
and tests/test_quality.py, which keeps the labelled sets).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from faceapp.core.faces.alignment import alignment_matrix, warp_face
from faceapp.core.faces.selection import SMALL_FACE_PX, Face

ANALYSIS_SIZE = 256  # aligned side the measurements are made at (faces smaller stay smaller)
MIN_ANALYSIS_SIZE = 48
MAX_NATIVE_SIZE = 512  # bigger faces are aligned at this size, then averaged down
SHARP_SCORE = 0.5  # at or above: "sharp", left alone by default
SOFT_SCORE = 0.25  # at or above: "slightly soft"; below: "blurry"
# log(finest band / middle band energy) mapped linearly onto [0, 1] between these two.
SHARPNESS_RANGE = (-2.8, -1.5)
NOISE_LIMIT = 0.005  # grain (sigma in [0, 1] units, at the analysis size) halving the score
BLOCKINESS_LIMIT = 0.8  # border-step excess halving the score
FULL_RESOLUTION_PX = 64  # faces at least this big lose nothing for their size

LABELS = ("sharp", "slightly soft", "blurry", "tiny")


@dataclass(frozen=True)
class FaceQuality:
    score: float  # 0..1, 1 = clean and sharp
    label: str  # one of LABELS
    sharpness: float  # log fine / mid band energy ratio
    noise: float  # estimated noise sigma, in [0, 1] units
    blockiness: float  # relative step on 8-pixel borders; 0 = none
    face_px: float | None  # face size in the original pixels; None for a given aligned crop

    @property
    def needs_restoring(self) -> bool:
        return self.label != "sharp"

    @property
    def reason(self) -> str:
        """One sentence for a tooltip: why the face is, or is not, selected by default."""
        if self.label == "tiny":
            return f"Tiny face ({self.face_px:.0f} px): restoring it will be guesswork."
        if self.label == "sharp":
            return (
                "Already sharp: restoring it would mostly smooth it and can make it look "
                "artificial."
            )
        problems = [name for name, bad in self._problems() if bad] or ["soft detail"]
        return f"Needs restoring ({', '.join(problems)})."

    def _problems(self) -> list[tuple[str, bool]]:
        return [
            ("blurred", _sharpness_part(self.sharpness) < 0.5),
            ("noisy", self.noise > 0.7 * NOISE_LIMIT),
            ("JPEG blocks", self.blockiness > BLOCKINESS_LIMIT / 2),
            ("low resolution", self.face_px is not None and self.face_px < FULL_RESOLUTION_PX),
        ]

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 3),
            "label": self.label,
            "sharpness": round(self.sharpness, 3),
            "noise": round(self.noise, 4),
            "blockiness": round(self.blockiness, 3),
        }


def assess_face(image: np.ndarray, face: Face) -> FaceQuality:
    """The quality of one detected face in an RGB image: uint8/uint16, or float in [0, 1].
    Only the face's surroundings are converted and measured, however large the photo."""
    image, face = _surroundings(image, face)
    matrix = alignment_matrix(face.landmarks, ANALYSIS_SIZE)
    zoom = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))  # aligned px per photo px
    # Aligned at the face's own resolution: small faces are not upsampled (that would read as
    # blur), large ones are averaged down rather than sampled (that would read as detail).
    size = int(np.clip(round(ANALYSIS_SIZE / zoom), MIN_ANALYSIS_SIZE, MAX_NATIVE_SIZE))
    crop = warp_face(image, alignment_matrix(face.landmarks, size), size)
    if size > ANALYSIS_SIZE:
        crop = cv2.resize(crop, (ANALYSIS_SIZE, ANALYSIS_SIZE), interpolation=cv2.INTER_AREA)
    blocks = blockiness(_grey(_box_region(image, face.box)))
    return _quality(crop, blocks, face.size)


def _surroundings(image: np.ndarray, face: Face) -> tuple[np.ndarray, Face]:
    """The face box grown by half a face each way (more than the part measured), as float,
    with its corner on the 8-pixel JPEG grid, and the face in its coordinates."""
    h, w = image.shape[:2]
    grow = max(face.width, face.height) / 2
    x0 = max(0, int(face.box[0] - grow) // 8 * 8)
    y0 = max(0, int(face.box[1] - grow) // 8 * 8)
    x1, y1 = min(w, int(face.box[2] + grow) + 1), min(h, int(face.box[3] + grow) + 1)
    region = image[y0:y1, x0:x1, :3]
    if region.dtype.kind in "ui":
        region = region.astype(np.float32) / np.iinfo(region.dtype).max
    else:
        region = region.astype(np.float32, copy=False)
    box = (face.box[0] - x0, face.box[1] - y0, face.box[2] - x0, face.box[3] - y0)
    return region, replace(face, box=box, landmarks=face.landmarks - (x0, y0))


def assess_crop(crop: np.ndarray) -> FaceQuality:
    """The quality of an already aligned face crop (float RGB in [0, 1], any size)."""
    blocks = blockiness(_grey(crop))
    side = crop.shape[0]
    if side > ANALYSIS_SIZE:
        crop = cv2.resize(crop, (ANALYSIS_SIZE, ANALYSIS_SIZE), interpolation=cv2.INTER_AREA)
    return _quality(crop, blocks, None)


def _quality(crop: np.ndarray, blocks: float, face_px: float | None) -> FaceQuality:
    inner = _grey(_inner_face(crop))
    sharp, noise = sharpness(inner), noise_sigma(inner)
    score = _sharpness_part(sharp)
    score *= _penalty(noise, NOISE_LIMIT, 4) * _penalty(blocks, BLOCKINESS_LIMIT, 2)
    if face_px is not None:
        score *= float(np.clip(face_px / FULL_RESOLUTION_PX, 0.0, 1.0))
    return FaceQuality(float(score), _label(score, face_px), sharp, noise, blocks, face_px)


def _label(score: float, face_px: float | None) -> str:
    if face_px is not None and face_px < SMALL_FACE_PX:
        return "tiny"
    if score >= SHARP_SCORE:
        return "sharp"
    return "slightly soft" if score >= SOFT_SCORE else "blurry"


def _sharpness_part(sharp: float) -> float:
    low, high = SHARPNESS_RANGE
    return float(np.clip((sharp - low) / (high - low), 0.0, 1.0))


def _penalty(value: float, limit: float, power: float) -> float:
    """About 1 well below `limit`, 0.5 at it, towards 0 beyond."""
    return 1.0 / (1.0 + (max(value, 0.0) / limit) ** power)


def sharpness(grey: np.ndarray) -> float:
    """log(energy of the finest band (sigma < 0.7) / energy of a middle band (1.5 to 3)).
    Independent of contrast; blur and upsampling empty the finest band first."""
    finest = grey - cv2.GaussianBlur(grey, (0, 0), 0.7)
    middle = cv2.GaussianBlur(grey, (0, 0), 1.5) - cv2.GaussianBlur(grey, (0, 0), 3.0)
    return float(np.log((np.mean(finest**2) + 1e-12) / (np.mean(middle**2) + 1e-10)))


_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(grey: np.ndarray) -> float:
    """Immerkær (1996): the Laplacian difference kernel cancels smooth shading; the median over
    the flattest half of the face keeps edges (eyes, hair) out of the estimate."""
    response = np.abs(cv2.filter2D(grey, -1, _NOISE_KERNEL))[1:-1, 1:-1]
    flat = response[response <= np.median(response)]
    if flat.size == 0:
        return 0.0
    return float(np.sqrt(np.pi / 2) / 6 * np.mean(flat))


def blockiness(grey: np.ndarray) -> float:
    """How much larger steps are on one 8-pixel grid phase than on average, in x and y: JPEG
    leaves its block borders on a fixed phase. About 0 without blocks."""
    if min(grey.shape) < 24:
        return 0.0
    return (
        _grid_excess(np.abs(np.diff(grey, axis=1)).mean(axis=0))
        + _grid_excess(np.abs(np.diff(grey, axis=0)).mean(axis=1))
    ) / 2


def _grid_excess(steps: np.ndarray) -> float:
    usable = steps[: len(steps) // 8 * 8].reshape(-1, 8).mean(axis=0)
    others = (usable.sum() - usable.max()) / 7
    return float(usable.max() / (others + 1e-6) - 1.0)


def _inner_face(crop: np.ndarray) -> np.ndarray:
    """Brows to chin, cheek to cheek, in the FFHQ template: no hair, no background."""
    size = crop.shape[0]
    y0, y1, x0, x1 = (round(v * size / 512) for v in (180, 420, 150, 362))
    return crop[y0:y1, x0:x1]


def _box_region(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The face box in the photo's own pixels, its corner on the 8-pixel JPEG grid."""
    h, w = image.shape[:2]
    x0, y0 = max(0, int(box[0]) // 8 * 8), max(0, int(box[1]) // 8 * 8)
    return image[y0 : min(h, int(np.ceil(box[3]))), x0 : min(w, int(np.ceil(box[2])))]


def _grey(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))
