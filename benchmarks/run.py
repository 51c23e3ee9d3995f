"""faceapp against the reference pipeline (facexlib's FaceRestoreHelper as GFPGAN's and
CodeFormer's inference scripts use it), side by side on the same photos and weights.

    python benchmarks/run.py --quick                 # 3 photos, under 10 minutes on 2 CPU cores
    python benchmarks/run.py                         # 6 photos
    python benchmarks/run.py --photos group_photos/deepface__couple.jpg --threads 2
    python benchmarks/run.py --device cuda           # also prints faces per second
    python benchmarks/run.py --profile               # cProfile of faceapp on a group photo

Both sides load the same golden GFPGAN v1.4 file (../shared/golden), upscale by 2 with a Lanczos
background, and write the result. Each side is warmed up once (model loading is timed apart),
then the photos are timed with the sides taking turns to go first.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import torch

from benchmarks.faceapp_side import MASKS, FaceappSide, install_parser
from benchmarks.golden import SHARED, golden_file
from benchmarks.reference import THRESHOLDS, ReferencePipeline
from benchmarks.report import (
    PhotoResult,
    SideResult,
    cpu_ratio,
    faces_per_second,
    photo_table,
    same_work_ratio,
    save_json,
    speed_ratio,
)
from benchmarks.timing import Stopwatch
from benchmarks.userdirs import user_dirs_env

QUICK = [
    "group_photos/dlib__2008_002506.jpg",  # a group photo, 3 faces
    "misc_faces/deepface__img33.jpg",  # a large portrait, 2048 x 2048
    "old_photos/old_w_scratch__d.png",  # an old photo with scratches, 2 faces
]
FULL = QUICK + [
    "group_photos/dlib__2008_002470.jpg",  # a group photo, 6 faces
    "group_photos/deepface__couple.jpg",  # 2280 x 1588, 2 faces
    "misc_faces/deepface__img3.jpg",  # a 3-megapixel portrait
]
WARM_UP = "misc_faces/deepface__img51.jpg"
GOLDEN = {"gfpgan": "gfpgan_v1.4", "codeformer": "codeformer"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 photos (under 10 min on CPU)")
    parser.add_argument("--photos", nargs="+", help="paths, or names under ../shared/photos")
    parser.add_argument("--threads", type=int, help="torch and OpenCV threads (default: theirs)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--arch", default="gfpgan", choices=sorted(GOLDEN))
    parser.add_argument("--upscale", type=int, default=2, choices=(1, 2, 3, 4))
    parser.add_argument("--repeat", type=int, default=1, help="runs per photo (median kept)")
    parser.add_argument(
        "--ref-detector",
        default="as-trained",
        choices=sorted(THRESHOLDS),
        help="the reference's RetinaFace config (see benchmarks/README.md)",
    )
    parser.add_argument(
        "--mask",
        default="bisenet",
        choices=MASKS,
        help="faceapp's paste-back mask: a face parser installed (golden weights) or the oval",
    )
    parser.add_argument("--runtime", default="auto", choices=("auto", "torch", "openvino"))
    parser.add_argument("--precision", default="exact", choices=("exact", "fast"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--no-targets",
        action="store_true",
        help="skip the other targets (memory, time to window, slider latency)",
    )
    parser.add_argument(
        "--profile", nargs="?", const="faceapp", choices=("faceapp", "reference"), help="profile"
    )
    return parser.parse_args(argv)


def isolate_user_dirs(root: Path) -> None:
    os.environ.update(user_dirs_env(root))


def photo_path(name: str) -> Path:
    path = Path(name)
    return path if path.exists() else SHARED / "photos" / name


def build_sides(args, weights: Path, parse_weights: Path, device: torch.device):
    """Both sides with their models loaded; returns them and the load seconds of each."""
    start = time.perf_counter()
    ours = FaceappSide(
        weights, args.upscale, device, args.mask, runtime=args.runtime, precision=args.precision
    )
    ours.load_models()
    loaded = {"faceapp": time.perf_counter() - start}
    start = time.perf_counter()
    ref = ReferencePipeline(weights, parse_weights, args.upscale, device, args.ref_detector)
    loaded["reference"] = time.perf_counter() - start
    return {"faceapp": ours, "reference": ref}, loaded


def time_photo(sides: dict, path: Path, out_dir: Path, order: list[str], device) -> dict:
    results = {}
    for side in order:
        watch = Stopwatch(device)
        faces = sides[side].run(path, out_dir, watch)
        results[side] = SideResult(faces, watch.seconds, watch.cpu, watch.details)
    return results


def benchmark(args, sides: dict, names: list[str], out_dir: Path, device) -> list[PhotoResult]:
    photos = []
    turn = 0
    for name in names:
        path = photo_path(name)
        h, w = cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape[:2]
        runs = []
        for _ in range(args.repeat):
            order = ["reference", "faceapp"] if turn % 2 == 0 else ["faceapp", "reference"]
            runs.append(time_photo(sides, path, out_dir, order, device))
            turn += 1
        photo = PhotoResult(name, (w, h), _median_runs(runs))
        print(photo_table(photo, args.upscale), flush=True)
        photos.append(photo)
    return photos


def _median_runs(runs: list[dict]) -> dict:
    """Per side, the run with the median total."""
    chosen = {}
    for side in runs[0]:
        ordered = sorted((r[side] for r in runs), key=lambda s: s.total)
        chosen[side] = ordered[(len(ordered) - 1) // 2]
    return chosen


def profile(side, path: Path, out_dir: Path, device, top: int = 30) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    side.run(path, out_dir, Stopwatch(device))
    profiler.disable()
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(top)
        print(f"--- top {top} by {order} ---")
        print(text.getvalue().split("\n\n", 1)[-1].strip())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    device = torch.device(args.device)
    names = args.photos or (QUICK if args.quick else FULL)
    with tempfile.TemporaryDirectory(prefix="faceapp-bench-") as tmp:
        tmp = Path(tmp)
        isolate_user_dirs(tmp)
        weights = golden_file(GOLDEN[args.arch], tmp)
        parse_weights = golden_file("facexlib_parsenet", tmp)
        install_parser(args.mask, tmp)
        sides, loaded = build_sides(args, weights, parse_weights, device)
        for side in sides.values():  # warm-up: first-call costs are not what a photo costs
            side.run(photo_path(WARM_UP), tmp, Stopwatch(device))
        if args.profile:
            profile(
                sides[args.profile],
                photo_path(args.photos[0] if args.photos else QUICK[0]),
                tmp,
                device,
            )
            return
        print(_header(args, device, loaded, sides["faceapp"].engine.device_name))
        photos = benchmark(args, sides, names, tmp, device)
    print(faces_per_second(photos))
    if args.json:
        save_json(args.json, photos, _context(args, device, loaded))
    if not args.no_targets:
        other_targets()
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    print(f"speed ratio where both restored as many faces: {same_work_ratio(photos)}")
    print(f"cpu-time ratio faceapp/reference: {cpu_ratio(photos):.2f}")
    if args.precision != "exact":  # its own line: not the goal line of the default settings
        ratio = speed_ratio(photos)
        print(f"speed ratio faceapp/reference, {args.precision} precision: {ratio:.2f}")
    else:
        print(f"speed ratio faceapp/reference: {speed_ratio(photos):.2f}")


def other_targets() -> None:
    """Peak memory (24 MP, x2), time to window and slider latency, each in a fresh process."""
    here = Path(__file__).resolve().parent
    for script, extra in (("memory.py", []), ("gui_latency.py", ["--runs", "3"])):
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(
            [sys.executable, str(here / script), *extra], capture_output=True, text=True, env=env
        )
        print(f"--- {script} ---")
        print(done.stdout.strip() or done.stderr.strip()[-2000:])


def _header(args, device: torch.device, loaded: dict[str, float], sides_runtime: str) -> str:
    ref = f"{args.ref_detector} RetinaFace-MobileNet at {THRESHOLDS[args.ref_detector]}"
    return (
        f"{args.arch} golden weights, x{args.upscale} Lanczos background, {device.type}, "
        f"{torch.get_num_threads()} torch threads; reference detector: {ref}; "
        f"faceapp mask: {args.mask}, runtime {args.runtime} ({sides_runtime}), "
        f"precision {args.precision}\n"
        f"model load (once; faceapp's includes a first-use conversion): "
        f"faceapp {loaded['faceapp']:.2f} s, "
        f"reference {loaded['reference']:.2f} s"
    )


def _context(args, device: torch.device, loaded: dict[str, float]) -> dict:
    return {
        "arch": args.arch,
        "upscale": args.upscale,
        "device": device.type,
        "threads": torch.get_num_threads(),
        "faceapp_mask": args.mask,
        "reference_detector": args.ref_detector,
        "reference_threshold": THRESHOLDS[args.ref_detector],
        "model_load_seconds": loaded,
    }


if __name__ == "__main__":
    main()
