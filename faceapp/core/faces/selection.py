"""A detected face and how faces are chosen for restoration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Face:
    """One face in a photo, in the photo's pixel coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    landmarks: np.ndarray = field(repr=False)  # (5, 2): left eye, right eye, nose, mouth l, r
    index: int = 0  # stable: reading order, left-to-right, top-to-bottom
    manual: bool = False  # added by the user rather than the detector

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """Side of the square with the face box's area, in pixels."""
        return float(np.sqrt(max(self.width, 0.0) * max(self.height, 0.0)))

    @property
    def center(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 4),
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
            "manual": self.manual,
        }


def in_reading_order(faces: Sequence[Face]) -> list[Face]:
    """Number faces row by row (top to bottom), each row left to right.

    A face joins the current row when its centre lies within half a face height of the row's
    first face; this keeps the numbering stable for group photos taken in rows.
    """
    remaining = sorted(faces, key=lambda f: f.center[1])
    rows: list[list[Face]] = []
    for face in remaining:
        if rows and abs(face.center[1] - rows[-1][0].center[1]) < 0.5 * rows[-1][0].height:
            rows[-1].append(face)
        else:
            rows.append([face])
    ordered = [f for row in rows for f in sorted(row, key=lambda f: f.center[0])]
    return [replace(f, index=i) for i, f in enumerate(ordered)]


SMALL_FACE_PX = 32  # below this a restored face has too little to go on to look like the person


def is_small(face: Face) -> bool:
    return face.size < SMALL_FACE_PX


FaceSelection = str  # "all" | "auto" | "largest" | "center" | "none" | "0,2,3"


def parse_selection(text: str) -> FaceSelection:
    """Validate a selection given by a user; raise ValueError with a plain message."""
    text = text.strip().lower()
    if text in ("all", "auto", "largest", "center", "none"):
        return text
    try:
        indices = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"'{text}' is not a face selection: use all, auto, largest, center, none or "
            "indices like 0,2"
        ) from None
    if not indices or min(indices) < 0:
        raise ValueError(f"'{text}' is not a face selection: indices start at 0")
    return ",".join(str(i) for i in indices)


def select_faces(
    faces: Sequence[Face],
    selection: FaceSelection,
    image_size: tuple[int, int],
    needs_restoring: Callable[[Face], bool] | None = None,
):
    """The faces chosen by `selection` (see parse_selection); indices that do not exist are
    reported by the caller, here they are skipped. "auto" keeps the faces for which
    `needs_restoring` (the quality estimate, given by the caller) says yes."""
    if not faces or selection == "none":
        return []
    if selection == "all":
        return list(faces)
    if selection == "auto":
        if needs_restoring is None:
            raise ValueError("Choosing faces automatically needs their quality estimate.")
        return [f for f in faces if needs_restoring(f)]
    if selection == "largest":
        return [max(faces, key=lambda f: f.size)]
    if selection == "center":
        cx, cy = image_size[0] / 2, image_size[1] / 2
        return [min(faces, key=lambda f: (f.center[0] - cx) ** 2 + (f.center[1] - cy) ** 2)]
    wanted = {int(i) for i in selection.split(",")}
    return [f for f in faces if f.index in wanted]
