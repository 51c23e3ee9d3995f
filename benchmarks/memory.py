"""Peak memory of faceapp restoring a 24-megapixel photo with a x2 Lanczos background.

    python benchmarks/memory.py [--photo NAME] [--format jpg|png] [--upscale 2] [--trace]

The photo is made by enlarging a shared photo to 6000 x 4000 with OpenCV. The restoration runs
in a fresh subprocess (GFPGAN golden weights, read -> restore -> save, as the CLI does) whose
peak resident size (ru_maxrss) is the number reported; the child also prints the peak reached
by the end of each stage, which shows where it grows. --trace adds tracemalloc's view of the
numpy allocations (torch's are not traced) at the moment of the peak.

Linux carries a parent's resident size into ru_maxrss across fork and exec, so this script
imports nothing heavy itself: the weights and the photo are made by another subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from benchmarks.userdirs import user_dirs_env  # noqa: E402 - light: no torch, no numpy

TARGET_MB = 4096
SIZE = (6000, 4000)


def prepare(folder: Path, name: str, fmt: str) -> None:
    """Runs in a subprocess: the golden weights and the 24-megapixel photo, in `folder`."""
    import cv2

    from benchmarks.golden import SHARED, golden_file

    golden_file("gfpgan_v1.4", folder)
    image = cv2.imread(str(SHARED / "photos" / name), cv2.IMREAD_COLOR)
    big = cv2.resize(image, SIZE, interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(folder / f"24mp.{fmt}"), big, [cv2.IMWRITE_JPEG_QUALITY, 95])


def peak_mb() -> float:
    """This process's peak resident size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def high_water_mb(field: str = "VmHWM") -> float | None:
    """VmHWM: the peak of this process's own address space; VmRSS: its size now (Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((x for x in status.splitlines() if x.startswith(f"{field}:")), None)
    return int(line.split()[1]) / 1024 if line else None


def child(photo: Path, weights: Path, out: Path, upscale: int, trace: bool) -> None:
    """Runs in the fresh subprocess: one restoration, the peak after each stage as JSON."""
    if trace:
        import tracemalloc

        tracemalloc.start(8)
    from faceapp.core.photo.reading import read_photo
    from faceapp.core.photo.writing import SaveOptions, save_photo
    from faceapp.core.pipeline import RestoreOptions, restore_photo
    from faceapp.core.runtime.engine import Engine

    steps: list[tuple[str, float, float | None]] = [("start", peak_mb(), high_water_mb("VmRSS"))]
    engine = Engine("cpu")
    engine.detector(), engine.face_model(weights)
    steps.append(("models", peak_mb(), high_water_mb("VmRSS")))
    pixels = read_photo(photo)
    steps.append(("load", peak_mb(), high_water_mb("VmRSS")))
    seen = set()

    def on_progress(progress) -> None:
        if progress.stage not in seen:  # the peak reached before this stage starts
            seen.add(progress.stage)
            steps.append((f"before {progress.stage}", peak_mb(), high_water_mb("VmRSS")))

    options = RestoreOptions(face_model=weights, upscale=upscale, background="lanczos")
    started = time.perf_counter()
    # keep_background=False: as the CLI and the API do
    result = restore_photo(engine, pixels, options, on_progress, keep_background=False)
    steps.append(("restore_photo done", peak_mb(), high_water_mb("VmRSS")))
    save_photo(result.photo, out, SaveOptions(overwrite=True))
    steps.append(("write", peak_mb(), high_water_mb("VmRSS")))
    report = {
        "steps": steps,
        "vm_hwm_mb": high_water_mb(),
        "faces": len(result.restored),
        "seconds": time.perf_counter() - started,
    }
    if trace:
        report["numpy_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(report))


def in_subprocess(call: str, *args: str, home: str, module: str = "benchmarks.memory") -> str:
    """`call` (an expression over `args`, a list of str, and the names of `module`) in a fresh
    Python; its stdout. faceapp's user folders point into `home`: no installed model of the
    user's is used."""
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from {module} import *; "
    code += f"args = sys.argv[1:]; {call}"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **user_dirs_env(Path(home))}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"the subprocess failed:\n{done.stderr}")
    return done.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="group_photos/deepface__couple.jpg")
    parser.add_argument("--format", default="jpg", choices=("jpg", "png"))
    parser.add_argument("--upscale", type=int, default=2)
    parser.add_argument("--trace", action="store_true", help="also trace numpy allocations")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="faceapp-memory-") as tmp:
        call = "prepare(Path(args[0]), args[1], args[2])"
        in_subprocess(call, tmp, args.photo, args.format, home=tmp)
        files = [f"{tmp}/24mp.{args.format}", f"{tmp}/gfpgan_v1.4.pth"]
        files += [f"{tmp}/restored.{args.format}", str(args.upscale), str(int(args.trace))]
        call = "child(*map(Path, args[:3]), int(args[3]), args[4] == '1')"
        report = json.loads(in_subprocess(call, *files, home=tmp).strip().splitlines()[-1])
    w, h = SIZE
    print(
        f"{w}x{h} {args.format} from {args.photo}, x{args.upscale} Lanczos, GFPGAN golden, "
        "oval mask (no face parser installed):"
    )
    print(f"{report['faces']} faces restored in {report['seconds']:.0f} s")
    print(f"  {'':<30}{'peak':>8}{'now':>8} MB")
    for step, peak, now in report["steps"]:
        print(f"  {'by ' + step:<30}{peak:>8.0f}{now or 0:>8.0f}")
    if "numpy_peak_mb" in report:
        print(f"  numpy allocations at their peak: {report['numpy_peak_mb']:.0f} MB (tracemalloc)")
    if report["vm_hwm_mb"] is not None:
        print(f"  VmHWM (the process's own peak): {report['vm_hwm_mb']:.0f} MB")
    print(f"peak memory MB: {report['steps'][-1][1]:.0f} (target <= {TARGET_MB})")


if __name__ == "__main__":
    main()
