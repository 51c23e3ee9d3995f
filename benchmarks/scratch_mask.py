"""Measure "Find scratches and dust" on synthetic damage drawn on clean photos (../shared).

Prints, per photo, the recall of the drawn scratches and specks (share of their pixels in the
proposed mask) and the share of pixels wrongly marked on the clean photo, then the medians.
usage: python benchmarks/scratch_mask.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from synthetic_damage import draw_damage, recall, visible_damage  # noqa: E402

from faceapp.core.repair.scratches import find_scratches  # noqa: E402

PHOTOS = [
    "misc_faces/spandrel__einstein.png",
    "misc_faces/facexlib__test.jpg",
    "misc_faces/deepface__img25.jpg",
    "misc_faces/deepface__img1.jpg",
    "group_photos/deepface__couple.jpg",
    "group_photos/dlib__2008_001009.jpg",
    "old_photos/old__a.png",
    "old_photos/old__g.png",
    "old_photos/old__h.png",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    recalls, wrong = [], []
    for name in PHOTOS:
        rgb = cv2.imread(str(args.shared / "photos" / name), cv2.IMREAD_COLOR)[:, :, ::-1]
        clean = float((find_scratches(rgb) > 0).mean())
        scores = [
            recall(find_scratches(d), visible_damage(rgb, d, m))
            for d, m in _damaged(rgb, args.seeds)
        ]
        found = statistics.median(scores)
        recalls.append(found)
        wrong.append(clean)
        print(
            f"{name:45s} {rgb.shape[1]}x{rgb.shape[0]}  recall {found:.3f}  "
            f"clean photo marked {100 * clean:.2f} %"
        )
    print(
        f"median recall {statistics.median(recalls):.3f}, min {min(recalls):.3f}; "
        f"clean photo marked: median {100 * statistics.median(wrong):.2f} %, "
        f"max {100 * max(wrong):.2f} %"
    )


def _damaged(rgb, seeds: int):
    return [draw_damage(rgb, seed) for seed in range(seeds)]


if __name__ == "__main__":
    main()
