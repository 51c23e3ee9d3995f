"""Printing and saving benchmark results."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.timing import STAGES

SIDES = ("faceapp", "reference")


@dataclass
class SideResult:
    faces: int
    seconds: dict[str, float]  # wall-clock, per stage
    cpu: dict[str, float]  # this process's CPU time, per stage
    details: dict[str, float] = field(default_factory=dict)  # parts of stages

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())


@dataclass
class PhotoResult:
    name: str
    size: tuple[int, int]  # width, height
    sides: dict[str, SideResult] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.sides["faceapp"].total / self.sides["reference"].total

    @property
    def cpu_ratio(self) -> float:
        return self.sides["faceapp"].cpu_total / self.sides["reference"].cpu_total


def photo_table(photo: PhotoResult, upscale: int) -> str:
    f, r = photo.sides["faceapp"], photo.sides["reference"]
    w, h = photo.size
    lines = [
        f"{photo.name}  ({w}x{h}, x{upscale})  faces: faceapp {f.faces}, reference {r.faces}",
        f"  {'stage':<12}{'faceapp s':>10}{'reference s':>13}",
    ]
    for stage in STAGES:
        lines.append(f"  {stage:<12}{_cell(f.seconds, stage):>10}{_cell(r.seconds, stage):>13}")
        for part in sorted(set(f.details) | set(r.details)) if stage == "paste" else ():
            row = f"{_cell(f.details, part):>10}{_cell(r.details, part):>13}"
            lines.append(f"  {'  ' + part:<12}{row}")
    lines.append(f"  {'total':<12}{f.total:>10.2f}{r.total:>13.2f}   ratio {photo.ratio:.2f}")
    cpu = f"{f.cpu_total:>10.2f}{r.cpu_total:>13.2f}   ratio {photo.cpu_ratio:.2f}"
    lines.append(f"  {'cpu time':<12}{cpu}")
    return "\n".join(lines)


def _cell(seconds: dict[str, float], stage: str) -> str:
    # "-": done inside another stage (faceapp aligns in "restore"; ParseNet is the reference's)
    return f"{seconds[stage]:.2f}" if stage in seconds else "-"


def faces_per_second(photos: list[PhotoResult]) -> str:
    """Faces through the network per second of the restore stage, and end to end."""
    parts = []
    for side in SIDES:
        faces = sum(p.sides[side].faces for p in photos)
        restore = sum(p.sides[side].seconds.get("restore", 0.0) for p in photos)
        total = sum(p.sides[side].total for p in photos)
        parts.append(
            f"{side} {faces / max(restore, 1e-9):.2f} (restore stage), "
            f"{faces / max(total, 1e-9):.2f} (end to end)"
        )
    return "faces/s: " + "; ".join(parts)


def speed_ratio(photos: list[PhotoResult]) -> float:
    return statistics.median(p.ratio for p in photos)


def cpu_ratio(photos: list[PhotoResult]) -> float:
    return statistics.median(p.cpu_ratio for p in photos)


def same_work_ratio(photos: list[PhotoResult]) -> str:
    """The speed ratio over the photos where both sides restored as many faces: the cost of
    the same work, without the reference's missed and false detections."""
    same = [p.ratio for p in photos if p.sides["faceapp"].faces == p.sides["reference"].faces]
    if not same:
        return "no photo where both sides restored as many faces"
    return f"{statistics.median(same):.2f} (median of {len(same)} of {len(photos)} photos)"


def save_json(path: Path, photos: list[PhotoResult], context: dict) -> None:
    data = {
        **context,
        "photos": [
            {
                **asdict(p),
                "totals": {s: p.sides[s].total for s in SIDES},
                "ratio": p.ratio,
                "cpu_ratio": p.cpu_ratio,
            }
            for p in photos
        ],
        "speed_ratio": speed_ratio(photos),
        "cpu_time_ratio": cpu_ratio(photos),
        "same_faces_ratio": same_work_ratio(photos),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
