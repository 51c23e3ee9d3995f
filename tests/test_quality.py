"""The "needs restoring?" estimate: it separates the labelled sharp and degraded faces, and
each of its measurements reacts to the degradation it is meant to see."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import photo_path, require_shared

from benchmarks import labelled_quality as lq
from faceapp.core.faces.quality import (
    SHARP_SCORE,
    assess_crop,
    assess_face,
    blockiness,
    noise_sigma,
)
from faceapp.core.faces.selection import SMALL_FACE_PX, Face
from faceapp.core.photo.reading import read_photo, to_float


def _texture(size: int = 256, seed: int = 0) -> np.ndarray:
    """Sharp-edged discs of every size and grey level (no noise), as RGB float."""
    rng = np.random.default_rng(seed)
    grey = np.full((size, size), 0.5, np.float32)
    for _ in range(size):
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        radius = int(rng.integers(2, size // 8))
        cv2.circle(grey, centre, radius, float(rng.random()), -1, cv2.LINE_AA)
    return np.repeat(grey[:, :, None], 3, axis=2)


def test_blur_and_upsampling_lower_the_score() -> None:
    sharp = _texture()
    blurred = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    small = cv2.resize(cv2.resize(sharp, (64, 64), interpolation=cv2.INTER_AREA), (256, 256))
    score = assess_crop(sharp).score
    assert assess_crop(blurred).score < score - 0.3
    assert assess_crop(small).score < score - 0.3
    assert assess_crop(blurred).needs_restoring


def test_noise_estimate_follows_the_added_noise() -> None:
    flat = np.full((128, 128), 0.5, np.float32)
    rng = np.random.default_rng(1)
    estimates = [
        noise_sigma(flat + rng.normal(0, s, flat.shape).astype(np.float32))
        for s in (0.0, 0.01, 0.03)
    ]
    assert estimates[0] < 1e-6 < estimates[1] < estimates[2]
    assert estimates[2] == pytest.approx(3 * estimates[1], rel=0.25)


def test_jpeg_blocks_are_seen() -> None:
    smooth = (cv2.GaussianBlur(_texture()[:, :, 0], (0, 0), 3.0) * 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", smooth, [cv2.IMWRITE_JPEG_QUALITY, 5])
    assert ok
    blocky = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    assert blockiness(blocky) > 1.0 > 0.3 > blockiness(smooth.astype(np.float32) / 255)


def test_a_tiny_face_is_labelled_tiny() -> None:
    image = _texture(512)
    face = Face(
        (100, 100, 120, 122),
        0.9,
        np.array([[105, 108], [115, 108], [110, 113], [106, 117], [114, 117]], float),
    )
    quality = assess_face(image, face)
    assert face.size < SMALL_FACE_PX
    assert quality.label == "tiny" and quality.needs_restoring
    assert "Tiny face" in quality.reason


@pytest.mark.shared
@pytest.mark.slow
def test_the_score_separates_the_labelled_faces() -> None:
    """As reported in the README: AUC 1.0 and every labelled face on its side of SHARP_SCORE
    (sharp faces >= 0.58, degraded faces <= 0.43 when calibrated)."""
    from benchmarks.quality_calibration import auc, labelled_scores

    rows = labelled_scores(require_shared("photos"))
    sharp = [q.score for _, s, q in rows if s]
    degraded = [q.score for _, s, q in rows if not s]
    assert len(sharp) == len(lq.SHARP_PHOTOS) + len(lq.SHARP_CROPS)
    assert auc(sharp, degraded) == 1.0
    wrong = [name for name, s, q in rows if (q.score >= SHARP_SCORE) != s]
    assert not wrong, wrong
    assert all(q.label == "sharp" for _, s, q in rows if s)


@pytest.mark.shared
def test_the_ground_truth_beats_each_of_its_degraded_versions() -> None:
    truth = read_photo(photo_path(lq.GROUND_TRUTH)).pixels
    best = assess_crop(to_float(truth))
    for kind, image in lq.degraded_versions(truth).items():
        worse = assess_crop(to_float(image))
        assert worse.score < best.score - 0.4, kind
        assert worse.needs_restoring, kind
