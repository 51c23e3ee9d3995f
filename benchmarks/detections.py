"""Faces found by the reference detector and by faceapp's on the labelled shared photos.

The expected counts are those of tests/test_detection.py, checked there by looking at each photo
with its detections drawn; faceapp's boxes match them on every photo, so they serve as the truth
that the reference's boxes are matched against (IoU > 0.3). A false face costs the reference
pipeline as much as a real one (restored and pasted); a missed face is left unrestored.

    python benchmarks/detections.py            # both detectors, the reference at its threshold
    python benchmarks/detections.py --sweep    # the reference at several thresholds
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np
import torch

from benchmarks.golden import SHARED
from benchmarks.labelled_faces import GROUPS, PORTRAITS
from benchmarks.reference import DETECT_KWARGS, THRESHOLDS, build_retinaface

LABELLED = {**dict.fromkeys(PORTRAITS, 1), **GROUPS}
SWEEP = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97)
MATCH_IOU = 0.3

Boxes = np.ndarray  # (N, 4): x1, y1, x2, y2


def reference_boxes(images, thresholds, arch: str = "GFPGAN", as_trained: bool = False):
    """{threshold: {name: boxes}} as FaceRestoreHelper.get_face_landmarks_5 keeps them."""
    from benchmarks.reference import ThresholdedDetector, make_helper

    device = torch.device("cpu")
    net = build_retinaface(device, as_trained)
    found: dict[float, dict[str, Boxes]] = {}
    for threshold in thresholds:
        helper = make_helper(1, device, ThresholdedDetector(net, threshold), None)
        found[threshold] = {}
        for name, image in images.items():
            helper.clean_all()
            helper.read_image(image)
            helper.get_face_landmarks_5(only_center_face=False, **DETECT_KWARGS[arch])
            found[threshold][name] = np.array([f[:4] for f in helper.det_faces]).reshape(-1, 4)
    return found


def faceapp_boxes(names) -> dict[str, Boxes]:
    from faceapp.core.faces.detection import FaceDetector
    from faceapp.core.photo.reading import read_photo

    detector = FaceDetector(device="cpu")
    found = {}
    for name in names:
        faces = detector.detect(read_photo(SHARED / "photos" / name).pixels)
        found[name] = np.array([f.box for f in faces]).reshape(-1, 4)
    return found


def iou(a: Boxes, b: Boxes) -> np.ndarray:
    """(len(a), len(b)) intersection over union."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (hi - lo).clip(0).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def matched(truth: Boxes, found: Boxes) -> int:
    """Faces of `truth` matched one to one by a box of `found` (greedy, best overlap first)."""
    overlaps = iou(truth, found)
    hits = 0
    while overlaps.size and overlaps.max() > MATCH_IOU:
        i, j = np.unravel_index(np.argmax(overlaps), overlaps.shape)
        overlaps[i, :], overlaps[:, j] = 0, 0
        hits += 1
    return hits


def score(truth: dict[str, Boxes], found: dict[str, Boxes]) -> tuple[int, int, int]:
    """(faces found, faces missed, false faces) over all photos."""
    hits = {n: matched(truth[n], found[n]) for n in truth}
    missed = sum(len(truth[n]) - hits[n] for n in truth)
    false = sum(len(found[n]) - hits[n] for n in truth)
    return sum(hits.values()), missed, false


def summary(label: str, truth: dict[str, Boxes], found: dict[str, Boxes]) -> str:
    hits, missed, false = score(truth, found)
    f1 = 2 * hits / max(1, 2 * hits + missed + false)
    return f"{label}: {hits} found, {missed} missed, {false} false faces (F1 {f1:.2f})"


def print_table(truth, ours, variants: dict[str, dict[float, dict[str, Boxes]]]) -> None:
    columns = [(v, t) for v, by_t in variants.items() for t in by_t]
    heads = " ".join(f"{v[3:6] + '@' + str(t):>9}" for v, t in columns)  # e.g. "is@0.9"
    print(f"{'photo':46} {'truth':>5} {'faceapp':>7} {heads}")
    for name in LABELLED:
        row = " ".join(f"{len(variants[v][t][name]):>9}" for v, t in columns)
        print(f"{name:46} {LABELLED[name]:>5} {len(ours[name]):>7} {row}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="try several reference thresholds")
    parser.add_argument("--arch", default="GFPGAN", choices=sorted(DETECT_KWARGS))
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    images = {n: cv2.imread(str(SHARED / "photos" / n), cv2.IMREAD_COLOR) for n in LABELLED}
    start = time.perf_counter()
    ours = faceapp_boxes(LABELLED)
    print(f"faceapp's detector: {time.perf_counter() - start:.1f} s for {len(LABELLED)} photos")
    wrong = [n for n in LABELLED if len(ours[n]) != LABELLED[n]]
    truth = {n: b for n, b in ours.items() if n not in wrong}
    if wrong:
        print(f"faceapp's count differs from the labels on {wrong}: left out of the truth")
    variants = {}
    for label, as_trained in (("as-is", False), ("as-trained", True)):
        start = time.perf_counter()
        thresholds = SWEEP if args.sweep else (THRESHOLDS[label],)
        variants[label] = reference_boxes(images, thresholds, args.arch, as_trained)
        seconds = (time.perf_counter() - start) / len(thresholds)
        print(f"reference detector {label}: {seconds:.1f} s for {len(LABELLED)} photos")
    print_table(truth, ours, variants)
    print(summary(f"faceapp ({sum(len(b) for b in truth.values())} faces)", truth, ours))
    for label, by_threshold in variants.items():
        for t, found in by_threshold.items():
            print(summary(f"reference {label} at {t}", truth, found))


if __name__ == "__main__":
    main()
