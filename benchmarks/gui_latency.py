"""Time from launch to window, from a strength-slider move to the repainted preview, and until
a selected photo's faces show while a crowd photo waits in the queue.

    python benchmarks/gui_latency.py [--megapixels 12] [--runs 5] [--only slider queue]
                                     [--profile]

Targets (issues #6, #15): window <= 1.5 s; slider to preview <= 100 ms (median and p90, at the
default window size, the restored photo already painted once); selected photo's faces shown
<= 2 s. Each measurement runs in a fresh process, offscreen, with throwaway user folders and
GPEN-256 golden weights (the preview path never runs the network, so the model only has to
produce a result once). --profile prints cProfile's top functions of the slider loop.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.userdirs import user_dirs_env  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def time_to_window(runs: int) -> list[float]:
    """Wall time of `python -m faceapp --quit-after-show`, from spawning to the printed line."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "faceapp", "--quit-after-show"],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        if "torch loaded: no" not in done.stdout:
            raise SystemExit(f"torch was imported before the window showed: {done.stdout}")
        times.append(time.perf_counter() - started)
    return times


def big_photo(megapixels: float, folder: Path, name: str = "group_photos/deepface__couple.jpg"):
    import cv2

    from benchmarks.golden import SHARED

    source = cv2.imread(str(SHARED / "photos" / name))
    scale = (megapixels * 1e6 / (source.shape[0] * source.shape[1])) ** 0.5
    image = cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    path = folder / "big.jpg"
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def slider_latency(
    megapixels: float, runs: int, folder: Path, photo: str, profile: bool = False
) -> tuple[list[float], str]:
    from PySide6.QtWidgets import QApplication

    from benchmarks.golden import golden_file
    from faceapp.core.models import store as model_store
    from faceapp.gui.main_window import MainWindow
    from faceapp.settings import Settings

    if model_store.installed_path("gpen-bfr-256") is None:
        model_store.import_model(golden_file("gpen_bfr_256", folder))
    app = QApplication.instance() or QApplication([])
    window = MainWindow(Settings(face_model="gpen-bfr-256"))
    window.resize(1400, 900)
    window.show()
    window.open_paths([big_photo(megapixels, folder, photo)])
    _wait(app, lambda: window.documents.current and window.documents.current.faces)
    window.faces.select_all()  # sharp faces start unselected
    window.restore()
    _wait(app, lambda: window.documents.current.compositor is not None)
    app.processEvents()
    window.canvas.viewport().repaint()  # the restored photo shows before the slider can move
    doc = window.documents.current
    times = []
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    for i in range(runs * 2):
        started = time.perf_counter()
        window.controls_panel.strength.setValue(40 if i % 2 == 0 else 90)
        window.canvas.viewport().repaint()
        app.processEvents()
        times.append(time.perf_counter() - started)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    size = f"{doc.photo.size[0]}x{doc.photo.size[1]}, {len(doc.faces)} faces"
    window.close()
    return times, size


def _wait(app, condition, timeout: float = 900, poll: float = 0.02) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(poll)


CROWD = "misc_faces/biubug6__1.jpg"  # ~20 faces: the pyramid plus many second looks
PORTRAITS = [
    "misc_faces/facexlib__test.jpg",
    "misc_faces/deepface__img1.jpg",
    "misc_faces/facexlib__test2.jpg",
    "misc_faces/spandrel__einstein.png",
]
SELECTED = 1  # of the portraits: deepface__img1.jpg, 1382 x 1868


def selected_faces_shown(folder: Path, alone: bool = False) -> tuple[float, float]:
    """Open a crowd photo and four portraits at once, select a portrait: seconds until the
    selected portrait's faces are on screen, and until every photo's faces are found. With
    `alone`, the portrait is opened by itself (to read the queue's cost on a busy machine).
    Timed from the moment the photos are opened, in a window whose detector is loaded."""
    import shutil

    from PySide6.QtWidgets import QApplication

    from benchmarks.golden import SHARED
    from faceapp.gui.main_window import MainWindow
    from faceapp.gui.state import Status
    from faceapp.settings import Settings

    names = [PORTRAITS[SELECTED]] if alone else [CROWD, *PORTRAITS]
    paths = [folder / Path(name).name for name in names]
    for name, path in zip(names, paths, strict=True):
        shutil.copyfile(SHARED / "photos" / name, path)
    app = QApplication.instance() or QApplication([])
    window = MainWindow(Settings())
    window.resize(1400, 900)
    window.show()
    warm = window.inference.submit("warm-up", lambda engine, _p, _c: engine.detector())
    done: list[bool] = []
    warm.ended.connect(lambda: done.append(True))
    _wait(app, lambda: done)
    started = time.perf_counter()
    window.open_paths(paths)
    selected = window.documents.docs[0 if alone else 1 + SELECTED]
    window.photos.select(selected)  # the user clicks the portrait
    _wait(app, lambda: selected.faces and window.canvas._faces, poll=0.005)
    shown = time.perf_counter() - started
    settled = (Status.READY, Status.FAILED)
    _wait(app, lambda: all(d.status in settled for d in window.documents.docs), poll=0.005)
    whole = time.perf_counter() - started
    window.shutdown()
    return shown, whole


def _child(args: argparse.Namespace) -> None:
    """One measurement in this fresh process; prints its result as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(user_dirs_env(Path(tmp)))
        if args.child in ("queue", "alone"):
            print(json.dumps(selected_faces_shown(Path(tmp), alone=args.child == "alone")))
            return
        times, size = slider_latency(
            args.megapixels, args.runs, Path(tmp), args.child, args.profile
        )
        print(json.dumps([times, size]))


def _in_fresh_process(args: argparse.Namespace, what: str):
    command = [sys.executable, __file__, "--child", what, "--runs", str(args.runs)]
    command += ["--megapixels", str(args.megapixels)] + (["--profile"] if args.profile else [])
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    lines = done.stdout.strip().splitlines()
    if args.profile:
        print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--photos",
        nargs="+",
        default=["group_photos/deepface__couple.jpg", "group_photos/dlib__2008_002506.jpg"],
        help="under ../shared/photos; the couple's two faces become ~2400 px at 12 MP (worst "
        "case), the group photo's three faces ~700 px (typical)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["window", "slider", "queue"],
        default=None,
        help="run only these measurements (default: all)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile's top of the slider loop"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    only = set(args.only or ["window", "slider", "queue"])
    if "window" in only:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(user_dirs_env(Path(tmp)))
            window = time_to_window(args.runs)
        print(
            f"time to window: median {statistics.median(window):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in window)}; target <= 1.5 s)"
        )
    for photo in args.photos if "slider" in only else []:
        slider, size = _in_fresh_process(args, photo)
        p90 = statistics.quantiles(slider, n=10)[-1]
        print(
            f"strength slider to preview ({Path(photo).name}, {size}): median "
            f"{statistics.median(slider) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, worst "
            f"{max(slider) * 1000:.0f} ms (target <= 100 ms)"
        )
    if "queue" in only:
        shown, whole = _in_fresh_process(args, "queue")
        alone, _ = _in_fresh_process(args, "alone")
        print(
            f"selected photo faces shown: {shown:.2f} s (a crowd and four portraits opened, "
            f"a portrait selected; the whole queue: {whole:.1f} s; the same portrait opened "
            f"alone: {alone:.2f} s; target <= 2 s)"
        )


if __name__ == "__main__":
    main()
