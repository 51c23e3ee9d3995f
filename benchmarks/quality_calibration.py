"""Calibrate the "needs restoring?" estimate: the features and the score of every labelled face,
the AUC of the score (sharp against degraded) and the accuracy at the chosen threshold.

    python benchmarks/quality_calibration.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import labelled_quality as lq  # noqa: E402
from faceapp.core.faces.quality import SHARP_SCORE, assess_crop, assess_face  # noqa: E402
from faceapp.core.photo.reading import read_photo, to_float  # noqa: E402

PHOTOS = Path(__file__).resolve().parent.parent.parent / "shared" / "photos"


def labelled_scores(photos: Path = PHOTOS, detector=None):
    """[(name, is_sharp, FaceQuality)] for every labelled face."""
    rows = []
    for name in lq.DEGRADED_CROPS + lq.SHARP_CROPS:
        crop = to_float(read_photo(photos / name).pixels)
        rows.append((name, name in lq.SHARP_CROPS, assess_crop(crop)))
    truth = read_photo(photos / lq.GROUND_TRUTH).pixels
    for kind, image in lq.degraded_versions(truth).items():
        rows.append((f"ground truth, {kind}", False, assess_crop(to_float(image))))
    if detector is None:
        from faceapp.core.faces.detection import FaceDetector

        detector = FaceDetector()
    for name in lq.SHARP_PHOTOS:
        pixels = read_photo(photos / name).pixels
        face = max(detector.detect(pixels), key=lambda f: f.size)
        rows.append((name, True, assess_face(to_float(pixels), face)))
    return rows


def auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a sharp face scores above a degraded one (ties count half)."""
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return float(np.mean(pairs))


def main() -> None:
    rows = labelled_scores()
    for name, sharp, q in rows:
        kind = "sharp" if sharp else "degr."
        print(
            f"{kind} {q.score:5.3f} {q.label:13s} sharp {q.sharpness:6.2f} noise {q.noise:.4f}"
            f" blocks {q.blockiness:5.2f} px {q.face_px or 0:5.0f}  {name}"
        )
    pos = [q.score for _, s, q in rows if s]
    neg = [q.score for _, s, q in rows if not s]
    right = sum((q.score >= SHARP_SCORE) == s for _, s, q in rows)
    print(
        f"AUC {auc(pos, neg):.3f}; threshold {SHARP_SCORE}: {right}/{len(rows)} right; "
        f"lowest sharp {min(pos):.3f}, highest degraded {max(neg):.3f}"
    )
    image = to_float(read_photo(PHOTOS / lq.SHARP_PHOTOS[0]).pixels)
    from faceapp.core.faces.detection import FaceDetector

    face = max(
        FaceDetector().detect(read_photo(PHOTOS / lq.SHARP_PHOTOS[0]).pixels), key=lambda f: f.size
    )
    times = []
    for _ in range(20):
        start = time.perf_counter()
        assess_face(image, face)
        times.append(time.perf_counter() - start)
    print(f"assess_face median {np.median(times) * 1000:.1f} ms ({face.size:.0f} px face)")


if __name__ == "__main__":
    main()
