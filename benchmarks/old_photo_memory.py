"""Peak memory and time per step of repair + colour on a 24-megapixel scan.

    python benchmarks/old_photo_memory.py [--repair-model opencv|lama] [--colorize-size 512]

A scratched old photo from ../shared is enlarged to 6000 x 4000 (its scratches grow with it),
then restored in a fresh subprocess as the CLI does it: read -> find scratches (faces left out)
-> repair -> colour (DDColor tiny, golden weights) -> save, no face model (--faces none). The
child's peak resident size (ru_maxrss) is the number reported, with the time of each step.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from benchmarks import memory  # noqa: E402 - light imports only
from benchmarks.memory import high_water_mb, peak_mb  # noqa: E402

TARGET_MB = 4096
SIZE = (6000, 4000)


def prepare(folder: Path, name: str) -> None:
    """Runs in a subprocess: golden DDColor tiny and LaMa files and the 24-megapixel scan."""
    import cv2
    import torch

    from benchmarks.golden import SHARED, golden_file, golden_state_dict

    golden_file("ddcolor_paper_tiny", folder)
    lama = {f"generator.{k}": v for k, v in golden_state_dict("lama_big").items()}
    torch.save({"state_dict": lama}, folder / "big-lama.ckpt")
    image = cv2.imread(str(SHARED / "photos" / name), cv2.IMREAD_COLOR)
    big = cv2.resize(image, SIZE, interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(folder / "24mp.png"), big)


def child(folder: Path, repair_model: str, size: int) -> None:
    """Runs in the fresh subprocess: one restoration; peaks and times per step as JSON."""
    from faceapp.core.photo.reading import read_photo
    from faceapp.core.photo.writing import SaveOptions, save_photo
    from faceapp.core.pipeline import RestoreOptions, restore_photo
    from faceapp.core.runtime.engine import Engine

    clock = time.perf_counter()
    steps: list[tuple[str, float, float]] = []

    def mark(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps.append((name, peak_mb(), now - clock))
        clock = now

    engine = Engine("cpu")
    engine.detector()
    mark("load the detector")
    photo = read_photo(folder / "24mp.png")
    mark("read the photo")
    seen: set[str] = set()

    def on_progress(progress) -> None:
        if progress.stage not in seen:
            seen.add(progress.stage)
            mark(f"until '{progress.stage}' starts")

    lama = folder / "big-lama.ckpt" if repair_model == "lama" else None
    options = RestoreOptions(
        faces="none",
        repair="auto",
        repair_model=lama,
        colorize_model=folder / "ddcolor_paper_tiny.pth",
        colorize_size=size,
    )
    result = restore_photo(engine, photo, options, on_progress, keep_background=False)
    mark("until colour is done")
    save_photo(result.photo, folder / "restored.png", SaveOptions(overwrite=True))
    mark("write")
    print(json.dumps({"steps": steps, "vm_hwm_mb": high_water_mb()}))


def in_subprocess(call: str, *args: str, home: str) -> str:
    return memory.in_subprocess(call, *args, home=home, module="benchmarks.old_photo_memory")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="old_photos/old_w_scratch__b.png")
    parser.add_argument("--repair-model", default="opencv", choices=("opencv", "lama"))
    parser.add_argument("--colorize-size", type=int, default=512)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="faceapp-oldphoto-") as tmp:
        in_subprocess("prepare(Path(args[0]), args[1])", tmp, args.photo, home=tmp)
        call = "child(Path(args[0]), args[1], int(args[2]))"
        reports = []
        for _ in ("first use", "later runs"):  # the second finds the compiled models cached
            out = in_subprocess(call, tmp, args.repair_model, str(args.colorize_size), home=tmp)
            reports.append(json.loads(out.strip().splitlines()[-1]))
    w, h = SIZE
    print(
        f"{w}x{h} from {args.photo}: repair auto ({args.repair_model}) + colour "
        f"(DDColor tiny golden, {args.colorize_size} px), no face model"
    )
    for name, report in zip(("first use (converts)", "later runs (cached)"), reports, strict=True):
        print(f"{name}:")
        print(f"  {'':<34}{'peak MB':>9}{'seconds':>9}")
        for step, peak, seconds in report["steps"]:
            print(f"  {step:<34}{peak:>9.0f}{seconds:>9.1f}")
        print(f"  peak memory MB: {report['steps'][-1][1]:.0f} (target <= {TARGET_MB})")


if __name__ == "__main__":
    main()
