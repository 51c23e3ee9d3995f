"""Per-model runtime table: PyTorch against OpenVINO exact (float32) and fast (bf16 on this CPU,
fp16 on GPUs), on the golden weights, same input, same process.

    python benchmarks/runtimes.py                        # every model below
    python benchmarks/runtimes.py --models gfpgan_v1.4 gpen_bfr_512 --repeat 3 --threads 2

Per model: forward seconds per face (per 288² tile for upscalers, and that times the tiles of a
1-megapixel image), the first-use conversion (export, convert, compile, check), and how far
"fast" moves the output from PyTorch float32: max and mean |diff| on the output's own scale
and the PSNR of the 8-bit image. Golden weights are pseudo-random: they amplify rounding, so
the fast figures are a worst case for the weights and a best case for the speed (this CPU has
AMX). The input is the golden input (a synthetic face), resized to the model's size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from benchmarks.golden import GOLDEN, golden_file
from benchmarks.userdirs import user_dirs_env

FACE_MODELS = ["gfpgan_v1.4", "codeformer", "gpen_bfr_512", "restoreformer_pp", "hifacegan"]
UPSCALERS = ["realesrgan_x4plus"]
TILE = 288  # an interior background tile: 256 + 2 * 16 overlap
TILES_PER_MP = 1e6 / 256**2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=FACE_MODELS + UPSCALERS)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median kept)")
    parser.add_argument("--threads", type=int, help="torch and OpenVINO threads")
    return parser.parse_args(argv)


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load(name: str, folder: Path):
    from faceapp.core.models.loading import load_face_model, load_upscale_model

    path = golden_file(name, folder)
    if name in UPSCALERS:
        return path, load_upscale_model(path)
    return path, load_face_model(path)


def model_input(name: str, model) -> torch.Tensor:
    x = torch.from_numpy(np.load(GOLDEN / name / "input.npy"))
    size = TILE if name in UPSCALERS else model.input_size
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear").contiguous()


def measure(name: str, folder: Path, repeat: int) -> dict:
    from faceapp.core.runtime.compiled import (
        Target,
        attach_face_runtime,
        attach_upscale_runtime,
        image_psnr,
    )
    from faceapp.core.runtime.openvino_runtime import CompiledNet, precision_hint

    path, model = load(name, folder)
    x = model_input(name, model)
    upscaler = name in UPSCALERS
    extra = () if upscaler or not model.has_fidelity else (np.array(0.5, np.float32),)
    with torch.inference_mode():
        reference = (model(x) if upscaler else model(x, 0.5)).numpy()
        row = {"torch": median_seconds(lambda: model(x) if upscaler else model(x, 0.5), repeat)}
    start = time.perf_counter()
    if upscaler:
        attach_upscale_runtime(model, path, Target("CPU", "exact"), tile=TILE)
    else:
        attach_face_runtime(model, path, Target("CPU", "exact"))
    row["convert"] = time.perf_counter() - start
    if model.compiled is None:
        return row
    xml = entry_for(path)  # the IR in the cache, compiled again for each precision
    image_range = (0.0, 1.0) if upscaler else (-1.0, 1.0)
    for precision in ("exact", "fast"):
        net = CompiledNet(xml, "CPU", precision)
        inputs = (x.numpy(), *extra)
        row[precision] = median_seconds(lambda net=net, inputs=inputs: net(*inputs), repeat)
        out = net(*inputs)
        diff = np.abs(out - reference)
        row[f"{precision}_dev"] = (float(diff.max()), float(diff.mean()))
        row[f"{precision}_psnr"] = image_psnr(out, reference, image_range)
        row[f"{precision}_hint"] = precision_hint(precision)
    return row


def entry_for(source: Path) -> Path:
    """The cache entry (model.xml) converted from `source`."""
    from faceapp.core.runtime import compiled_cache

    for xml in compiled_cache.compiled_dir().glob("*/model.xml"):
        if compiled_cache.read_meta(xml.parent).get("source") == str(source.resolve()):
            return xml
    raise LookupError(source)


def table(rows: dict[str, dict]) -> str:
    lines = [
        f"{'model':<20}{'unit':>11}{'torch s':>9}{'ov exact s':>11}{'ov fast s':>10}"
        f"{'first use s':>12}  fast vs torch f32: max / mean |diff|, 8-bit PSNR",
    ]
    for name, r in rows.items():
        unit = "1 MP image" if name in UPSCALERS else "face"
        k = TILES_PER_MP if name in UPSCALERS else 1.0
        if "exact" not in r:
            lines.append(f"{name:<20}{unit:>11}{r['torch'] * k:>9.2f}  (not converted)")
            continue
        dev, psnr = r["fast_dev"], r["fast_psnr"]
        lines.append(
            f"{name:<20}{unit:>11}{r['torch'] * k:>9.2f}{r['exact'] * k:>11.2f}"
            f"{r['fast'] * k:>10.2f}{r['convert']:>12.1f}  {dev[0]:.3g} / {dev[1]:.3g}, "
            f"{psnr:.1f} dB ({r['fast_hint']}; exact max |diff| {r['exact_dev'][0]:.2g})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="faceapp-runtimes-") as tmp:
        os.environ.update(user_dirs_env(Path(tmp)))
        for name in args.models:
            if not (GOLDEN / name).is_dir():
                print(f"{name}: no golden weights, skipped")
                continue
            try:
                rows[name] = measure(name, Path(tmp), args.repeat)
            except Exception as error:  # noqa: BLE001 - a model this build cannot load yet
                print(f"{name}: skipped ({type(error).__name__}: {error})")
                continue
            print(table({name: rows[name]}).splitlines()[-1], flush=True)
    print(f"\n{torch.get_num_threads()} threads, load average {os.getloadavg()}")
    print(table(rows))


if __name__ == "__main__":
    main()
