"""LaMa and DDColor: PyTorch against OpenVINO exact (float32) and fast (bf16 on this CPU), on the
golden weights, same input, same process, with the ratios against PyTorch.

    python benchmarks/old_photo_runtimes.py --repeat 3 --threads 2
    python benchmarks/old_photo_runtimes.py --models lama ddcolor_large --colorize-size 512

LaMa is timed on one repair window (inpaint.LAMA_WINDOW, 768², the golden image and mask
resized to it); DDColor on one picture at --colorize-size (512, the official default). "first
use" is what the app does once per model file: trace/export, convert, compile, check against
PyTorch. Golden weights are pseudo-random: they amplify rounding, so the fast deviations are a
worst case; the fast speed is a best case (this CPU has AMX).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from benchmarks.golden import GOLDEN, golden_state_dict
from benchmarks.runtimes import entry_for, median_seconds
from benchmarks.userdirs import user_dirs_env

MODELS = {
    "lama": "lama_big",
    "ddcolor_tiny": "ddcolor_paper_tiny",
    "ddcolor_large": "ddcolor_large",
}
DEFAULT = ["lama", "ddcolor_tiny"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median kept)")
    parser.add_argument("--threads", type=int, help="torch and OpenVINO threads")
    parser.add_argument("--colorize-size", type=int, default=512)
    return parser.parse_args(argv)


def _resized(name: str, file: str, size: int, mode: str) -> torch.Tensor:
    x = torch.from_numpy(np.load(GOLDEN / name / file))
    return torch.nn.functional.interpolate(x, size=(size, size), mode=mode).contiguous()


def lama_case(folder: Path):
    """(file, model, inputs, attach(target), image range) for one repair window."""
    from faceapp.core.models.loading import load_inpaint_model
    from faceapp.core.repair.inpaint import LAMA_WINDOW
    from faceapp.core.runtime.compiled import attach_inpaint_runtime

    path = folder / "best.ckpt"
    sd = golden_state_dict("lama_big")
    torch.save({"state_dict": {f"generator.{k}": v for k, v in sd.items()}}, path)
    model = load_inpaint_model(path)
    size = LAMA_WINDOW
    x = _resized("lama_big", "input.npy", size, "bilinear")
    mask = (_resized("lama_big", "mask.npy", size, "nearest") > 0).float()

    def attach(target) -> None:
        attach_inpaint_runtime(model, path, target, size)

    return path, model, (x, mask), attach, (0.0, 1.0)


def ddcolor_case(name: str, folder: Path, size: int):
    from faceapp.core.models.loading import load_colorize_model
    from faceapp.core.runtime.compiled import AB_RANGE, attach_colorize_runtime

    path = folder / f"{name}.pth"
    torch.save({"params": golden_state_dict(name)}, path)
    model = load_colorize_model(path)
    x = _resized(name, "input.npy", size, "bilinear")

    def attach(target) -> None:
        attach_colorize_runtime(model, path, target, size)

    return path, model, (x,), attach, AB_RANGE


def measure(key: str, folder: Path, repeat: int, size: int) -> dict:
    from faceapp.core.runtime.compiled import Target, image_psnr
    from faceapp.core.runtime.openvino_runtime import CompiledNet, precision_hint

    name = MODELS[key]
    case = lama_case(folder) if key == "lama" else ddcolor_case(name, folder, size)
    path, model, inputs, attach, out_range = case
    with torch.inference_mode():
        reference = model(*inputs).numpy()
        row = {"torch": median_seconds(lambda: model(*inputs), repeat)}
        logits = model.logits(*inputs).numpy() if key == "lama" else None
    start = time.perf_counter()
    attach(Target("CPU", "exact"))
    row["convert"] = time.perf_counter() - start
    if model.compiled is None:
        return row
    xml = entry_for(path)
    arrays = tuple(t.numpy() for t in inputs)
    for precision in ("exact", "fast"):
        net = CompiledNet(xml, "CPU", precision)
        row[precision] = median_seconds(lambda net=net: net(*arrays), repeat)
        out, *rest = net.run_all(*arrays)
        diff = np.abs(out - reference)
        if logits is not None:  # LaMa's second output: what its exact check holds
            row[f"{precision}_logits"] = float(np.abs(rest[0] - logits).max())
        row[f"{precision}_dev"] = (float(diff.max()), float(diff.mean()))
        row[f"{precision}_psnr"] = image_psnr(out, reference, out_range)
        row[f"{precision}_hint"] = precision_hint(precision)
    return row


def table(rows: dict[str, dict], size: int) -> str:
    lines = [
        f"{'model':<15}{'unit':>14}{'torch s':>9}{'ov exact s':>11}{'ratio':>7}{'ov fast s':>10}"
        f"{'ratio':>7}{'first use s':>12}  deviation from torch (max / mean |diff|, 8-bit PSNR)"
    ]
    for key, r in rows.items():
        unit = "768² window" if key == "lama" else f"{size}² picture"
        if "exact" not in r:
            lines.append(f"{key:<15}{unit:>14}{r['torch']:>9.2f}  (PyTorch: not converted)")
            continue
        exact, fast = r["exact_dev"], r["fast_dev"]
        lines.append(
            f"{key:<15}{unit:>14}{r['torch']:>9.2f}{r['exact']:>11.2f}"
            f"{r['exact'] / r['torch']:>7.2f}{r['fast']:>10.2f}{r['fast'] / r['torch']:>7.2f}"
            f"{r['convert']:>12.1f}  exact {exact[0]:.2g} / {exact[1]:.2g}, "
            f"{r['exact_psnr']:.1f} dB; fast ({r['fast_hint']}) {fast[0]:.2g} / {fast[1]:.2g}, "
            f"{r['fast_psnr']:.1f} dB"
        )
        if "exact_logits" in r:
            lines.append(
                f"{'':<15}logits max |diff|: exact {r['exact_logits']:.3g}, fast "
                f"{r['fast_logits']:.3g} (the golden logits span ±1e4)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    rows = {}
    with tempfile.TemporaryDirectory(prefix="faceapp-old-runtimes-") as tmp:
        os.environ.update(user_dirs_env(Path(tmp)))
        for key in args.models:
            rows[key] = measure(key, Path(tmp), args.repeat, args.colorize_size)
            print(table({key: rows[key]}, args.colorize_size).splitlines()[-1], flush=True)
    print(f"\n{torch.get_num_threads()} threads, median of {args.repeat} runs after a warm-up;")
    print(f"load average before {load_before}, after {os.getloadavg()}")
    print(table(rows, args.colorize_size))


if __name__ == "__main__":
    main()
