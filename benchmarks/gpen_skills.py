"""CPU (or GPU) time per face of GPEN's colouring and completing at 1024, with golden weights.

    python benchmarks/gpen_skills.py [--runs 3] [--threads N] [--device cpu] [--runtime torch]

Both jobs are one GPEN-1024 forward on an aligned face plus their own cheap steps (luminance
kept / white strokes and the paste of the damaged pixels). With --runtime openvino (or auto) the
model is converted once into a throwaway cache first, and "load" includes that conversion.
Prints the median of --runs after one warm-up, and the machine's load, since these numbers move
with whatever else runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runtime", default="torch", choices=("torch", "openvino", "auto"))
    args = parser.parse_args()
    import numpy as np
    import torch

    from benchmarks.golden import golden_file
    from benchmarks.userdirs import user_dirs_env
    from faceapp.core.face_skills import colour_aligned_face, complete_aligned_face
    from faceapp.core.runtime.engine import Engine

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(user_dirs_env(Path(folder)))  # the compiled cache: not the user's
        path = golden_file("gpen_bfr_1024", Path(folder))
        engine = Engine(args.device, args.runtime)
        started = time.perf_counter()
        model = engine.face_model(path)
        print(f"load: {time.perf_counter() - started:.2f} s")
    rng = np.random.default_rng(0)
    crop = rng.uniform(0, 1, (1024, 1024, 3)).astype(np.float32)
    damaged = np.zeros((1024, 1024), bool)
    damaged[400:440, 200:820] = True
    jobs = {
        "colour": lambda: colour_aligned_face(engine, model, crop),
        "complete": lambda: complete_aligned_face(engine, model, crop, damaged),
    }
    for name, job in jobs.items():
        job()  # warm-up
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            job()
            times.append(time.perf_counter() - started)
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"{name} per face at 1024: median {statistics.median(times):.2f} s ({runs})")
    print(
        f"runtime: {args.runtime}, threads: {torch.get_num_threads()}, "
        f"load average: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
