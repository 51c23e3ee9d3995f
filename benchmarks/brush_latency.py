"""How long one brush dab on the damage mask takes, with the canvas repainted, on a 24 MP scan.

Paints dabs of a 20-px brush with the red overlay shown, at Fit and at 100 %, and prints the
median milliseconds per dab (mask update + repaint) against a bare repaint measured in the same
run, and the share of one 60 Hz frame (target: a dab fits in a frame). Offscreen Qt.
usage: QT_QPA_PLATFORM=offscreen python benchmarks/brush_latency.py [--runs 5] [--dabs 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FRAME_MS = 1000 / 60
SIZE = (6000, 4000)  # width, height: 24 MP


def _per_dab(app, canvas, mask, runs: int, dabs: int, start: tuple[int, int], step: int):
    times = []
    for run in range(runs):
        began = time.perf_counter()
        for i in range(dabs):
            x, y = start[0] + i * step + run * 3, start[1] + run * 25
            mask.paint((x, y), (x + step, y + 10), 20)
            canvas.viewport().repaint()
        mask.end_stroke()
        app.processEvents()
        times.append((time.perf_counter() - began) / dabs * 1000)
    return statistics.median(times)


def _bare_repaint(app, canvas, runs: int, dabs: int) -> float:
    began = time.perf_counter()
    for _ in range(runs * dabs):
        canvas.viewport().repaint()
    app.processEvents()
    return (time.perf_counter() - began) / (runs * dabs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dabs", type=int, default=50)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from faceapp.gui.damage_mask import DamageMask
    from faceapp.gui.photo_canvas import PhotoCanvas
    from faceapp.gui.qimage import array_to_qimage
    from faceapp.gui.state import PhotoDoc

    app = QApplication(sys.argv[:1])
    canvas = PhotoCanvas()
    canvas.resize(1000, 700)
    canvas.show()
    canvas.set_before(array_to_qimage(np.full((SIZE[1], SIZE[0], 3), 128, np.uint8)))
    mask = DamageMask(PhotoDoc(None, "scan"), SIZE)
    canvas.damage.set_mask(mask)
    canvas.damage.set_shown(True)
    for name, zoom, start, step in (
        ("Fit", canvas.zoom_fit, (500, 1000), 40),
        ("100 %", canvas.zoom_actual, (2900, 2000), 2),
    ):
        zoom()
        canvas.viewport().repaint()
        app.processEvents()
        bare = _bare_repaint(app, canvas, args.runs, args.dabs)
        dab = _per_dab(app, canvas, mask, args.runs, args.dabs, start, step)
        print(
            f"{name:6} dab + repaint {dab:6.2f} ms (bare repaint {bare:5.2f} ms, "
            f"ratio {dab / max(bare, 1e-6):4.1f}); share of a 60 Hz frame {dab / FRAME_MS:.2f}"
        )
    undo_bytes = sum(step.before.nbytes for step in mask._undo)
    print(f"undo kept for {2 * args.runs} strokes: {undo_bytes / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
