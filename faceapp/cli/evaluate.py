"""The `evaluate` command: PSNR, SSIM and UQI of a restored photo against its original."""

from __future__ import annotations

import json
import sys


def add_evaluate_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a restored photo against its original (PSNR, SSIM, UQI)",
        description="PSNR (dB), SSIM and UQI of RESTORED against ORIGINAL (same size), for the "
        "whole image and, with --faces, for each face found in ORIGINAL, aligned the same way "
        "in both. Higher is closer to the original.",
    )
    p.add_argument("restored", metavar="RESTORED")
    p.add_argument("original", metavar="ORIGINAL")
    p.add_argument("--faces", action="store_true", help="also per aligned face pair")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))


def run_evaluate(args) -> dict:
    """Print the scores; raise on unreadable or mismatched inputs (main reports it)."""
    from faceapp.core.evaluation import face_scores, scores
    from faceapp.core.photo.reading import read_photo, to_float

    original_photo = read_photo(args.original)
    restored, original = to_float(read_photo(args.restored).pixels), to_float(original_photo.pixels)
    report: dict = {"restored": args.restored, "original": args.original}
    report["image"] = scores(restored, original).to_dict()
    if args.faces:
        from faceapp.api import engine_for

        faces = engine_for(args.device).detector().detect(original_photo.pixels)
        report["faces"] = [
            {"index": face.index, **s.to_dict()}
            for face, s in face_scores(restored, original, faces)
        ]
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        _print(report)
    return report


def _print(report: dict) -> None:
    print(f"{report['restored']} against {report['original']}")
    print(f"  whole image  {_line(report['image'])}")
    for face in report.get("faces", []):
        print(f"  face #{face['index']:<5d} {_line(face)}")
    if "faces" in report and not report["faces"]:
        print("  no face found in the original")


def _line(s: dict) -> str:
    psnr = "inf" if s["psnr"] is None else f"{s['psnr']:.2f}"
    return f"PSNR {psnr} dB  SSIM {s['ssim']:.4f}  UQI {s['uqi']:.4f}"
