"""Peak memory and time when opening a big folder: 200 photos of 12 megapixels by default.

    python benchmarks/big_folder.py [--count 200] [--megapixels 12] [--limit SECONDS]

Target (issue #15): peak memory <= 4 GB, with every photo's faces found. The photos are made
in a temporary folder by resizing shared photos (a different one, mirrored or not, in turn),
by one subprocess; a fresh subprocess opens the folder in the offscreen window, as a user
dropping it would, and waits until every photo is settled (or --limit seconds). Its peak
resident size (ru_maxrss) is the number reported. Like memory.py, this parent imports nothing
heavy: Linux carries a parent's resident size into a child's ru_maxrss.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from benchmarks.userdirs import user_dirs_env  # noqa: E402 - light: no torch, no numpy

TARGET_MB = 4096
SOURCES = ["group_photos", "misc_faces", "old_photos"]


def make_photos(folder: Path, count: int, megapixels: float) -> None:
    """Runs in a subprocess: `count` JPEGs of `megapixels`, resized from the shared photos."""
    import cv2

    from benchmarks.golden import SHARED

    sources = sorted(
        p
        for name in SOURCES
        for p in (SHARED / "photos" / name).iterdir()
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )
    for i in range(count):
        image = cv2.imread(str(sources[i % len(sources)]), cv2.IMREAD_COLOR)
        scale = (megapixels * 1e6 / (image.shape[0] * image.shape[1])) ** 0.5
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        if (i // len(sources)) % 2:
            image = cv2.flip(image, 1)
        cv2.imwrite(str(folder / f"photo{i:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])


def open_folder(folder: Path, limit: float) -> dict:
    """Runs in a fresh subprocess: open the folder in the window and wait for every photo."""
    import resource
    import time

    from PySide6.QtWidgets import QApplication

    from faceapp.gui.main_window import MainWindow
    from faceapp.gui.state import Status
    from faceapp.settings import Settings

    app = QApplication([])
    window = MainWindow(Settings())
    window.resize(1400, 900)
    window.show()
    started = time.perf_counter()
    window.open_paths([folder])
    listed = time.perf_counter() - started
    docs = window.documents.docs
    first = None
    settled = (Status.READY, Status.FAILED)
    while time.perf_counter() - started < limit:
        app.processEvents()
        done = sum(d.status in settled for d in docs)
        if first is None and docs[0].status in settled:
            first = time.perf_counter() - started
        if done == len(docs):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    result = {
        "photos": len(docs),
        "settled": sum(d.status in settled for d in docs),
        "failed": sum(d.status is Status.FAILED for d in docs),
        "decoded": sum(d.photo is not None for d in docs),
        "listed_s": listed,
        "first_s": first,
        "elapsed_s": elapsed,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    window.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--limit", type=float, default=3600, help="seconds to wait at most")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, folder = args.child
        if what == "make":
            make_photos(Path(folder), args.count, args.megapixels)
        else:
            print(json.dumps(open_folder(Path(folder), args.limit)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **user_dirs_env(Path(tmp)), "QT_QPA_PLATFORM": "offscreen"}
        photos = Path(tmp) / "photos"
        photos.mkdir()
        base = [sys.executable, __file__, "--count", str(args.count)]
        base += ["--megapixels", str(args.megapixels), "--limit", str(args.limit)]
        subprocess.run([*base, "--child", "make", str(photos)], check=True, env=env, cwd=REPO)
        done = subprocess.run(
            [*base, "--child", "open", str(photos)],
            check=True,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"{r['photos']} photos of {args.megapixels:g} MP opened: peak memory {r['peak_mb']:.0f} MB "
        f"(target <= {TARGET_MB} MB); listed in {r['listed_s']:.2f} s, first photo's faces in "
        f"{r['first_s'] or float('nan'):.1f} s, {r['settled']} settled ({r['failed']} failed) in "
        f"{r['elapsed_s']:.0f} s; {r['decoded']} kept decoded"
    )


if __name__ == "__main__":
    main()
