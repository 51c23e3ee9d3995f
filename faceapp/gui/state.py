"""Small observable state objects; widgets bind to these and keep no state of their own."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from faceapp.core.faces.quality import FaceQuality
from faceapp.core.faces.selection import Face, is_small
from faceapp.core.photo.reading import Photo
from faceapp.core.preview import PreviewCompositor
from faceapp.gui.face_choices import FaceChoice

if TYPE_CHECKING:  # the pipeline imports torch: only the inference thread loads it
    from faceapp.core.pipeline import RestoreResult


class Status(enum.Enum):
    OPENING = "Opening…"
    DETECTING = "Finding faces…"
    READY = "Ready"
    RESTORING = "Restoring…"
    RESTORED = "Restored"
    SAVED = "Saved"
    FAILED = "Failed"


@dataclass(frozen=True)
class RestoreRecipe:
    """What a cached result was made with: a change here means the network must run again."""

    model_id: str
    fidelity: float
    upscale: int
    background: str
    faces: tuple[int, ...]
    per_face: tuple = ()  # (index, model id, fidelity) of faces with their own model/fidelity
    colour_model: str | None = None  # a DDColor id when the photo is colorized
    repair: tuple | None = None  # (method, damage version) when the painted damage is repaired
    complete: int | None = None  # the damage version when faces under it are completed (GPEN)


class PhotoDoc(QObject):
    """One opened photo: its pixels, faces, the user's choice of faces and the cached result."""

    changed = Signal()

    def __init__(self, path: Path | None, name: str) -> None:
        super().__init__()
        self.path = path
        self.name = name
        self.status = Status.OPENING
        self.message = ""
        self.photo: Photo | None = None
        self.faces: list[Face] = []
        self.excluded: set[int] = set()
        self.result: RestoreResult | None = None
        self.recipe: RestoreRecipe | None = None
        self.compositor: PreviewCompositor | None = None
        self.saved_to: Path | None = None
        self.qualities: dict[int, FaceQuality] = {}  # face index -> "needs restoring?"
        self.choices: dict[int, FaceChoice] = {}  # face index -> its own settings
        self.candidates: dict[int, dict] = {}  # face index -> compare cache (core.compare)
        self.chosen: dict[int, object] = {}  # face index -> RestoredFace picked in Compare
        self.black_and_white = False  # decided from the pixels when the photo is read
        # the damage to repair: H x W uint8 at the photo's size, 255 = damaged; None: none
        self.damage_mask: np.ndarray | None = None
        self.damage_version = 0  # a new number for every new state of the mask (damage_mask.py)

    def set_status(self, status: Status, message: str = "") -> None:
        self.status, self.message = status, message
        self.changed.emit()

    @property
    def status_text(self) -> str:
        if self.status is Status.FAILED:
            return f"Failed: {self.message}" if self.message else "Failed"
        if self.status is Status.READY:
            return _faces_found(len(self.faces))
        if self.status is Status.SAVED and self.saved_to is not None:
            return f"Saved as {self.saved_to.name}"
        return self.message or self.status.value

    def set_faces(self, faces: list[Face], qualities: list[FaceQuality] | None = None) -> None:
        """With qualities, faces that are already sharp start unselected."""
        self.faces = faces
        self.excluded = {i for i in self.excluded if i < len(faces)}
        if qualities is not None:
            self.qualities = {f.index: q for f, q in zip(faces, qualities, strict=True)}
            self.excluded |= {i for i, q in self.qualities.items() if not q.needs_restoring}
        self.changed.emit()

    def excluded_faces(self) -> list[Face]:
        return [f for f in self.faces if f.index in self.excluded]

    def included_faces(self) -> list[Face]:
        return [f for f in self.faces if f.index not in self.excluded]

    def small_faces(self) -> list[Face]:
        return [f for f in self.faces if is_small(f)]

    def set_included(self, indices: set[int]) -> None:
        self.excluded = {f.index for f in self.faces} - indices
        self.changed.emit()

    def toggle(self, index: int) -> None:
        self.excluded ^= {index}
        self.changed.emit()

    def add_face(self, face: Face) -> Face:
        numbered = Face(face.box, face.score, face.landmarks, len(self.faces), manual=True)
        self.faces = [*self.faces, numbered]
        self.changed.emit()
        return numbered

    def forget_result(self) -> None:
        self.result, self.recipe, self.compositor = None, None, None

    @property
    def busy(self) -> bool:
        return self.status in (Status.OPENING, Status.DETECTING, Status.RESTORING)


def _faces_found(count: int) -> str:
    if count == 0:
        return "No faces found"
    return "1 face" if count == 1 else f"{count} faces"


class Controls(QObject):
    """The restoration settings the user picks in the side panel."""

    changed = Signal(str)  # the name of the field that changed

    def __init__(
        self, model_id: str, strength: float, fidelity: float, upscale: int, background: str
    ) -> None:
        super().__init__()
        self.model_id = model_id
        self.strength = strength
        self.fidelity = fidelity
        self.upscale = upscale
        self.background = background  # "lanczos" or the id of an installed upscaler
        self.colorize = False  # colour for black-and-white photos (only those)
        self.colour_model: str | None = None  # an installed DDColor id
        self.colour_strength = 1.0  # re-blended without the network
        self.repair = True  # repair the damage marked on a photo (when some is marked)
        self.repair_method = "opencv"  # OpenCV's built-in inpainting, or an installed LaMa id
        self.complete_faces = False  # GPEN-Inpainting where the damage mask covers a face

    def set(self, name: str, value: object) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.changed.emit(name)

    def recipe(
        self,
        faces: list[Face],
        per_face: tuple = (),
        black_and_white: bool = False,
        damage_version: int | None = None,
    ) -> RestoreRecipe:
        """`damage_version`: the photo's damage mask state when it has damage, else None."""
        colour = self.colour_model if self.colorize and black_and_white else None
        repair = None
        if self.repair and damage_version is not None:
            repair = (self.repair_method, damage_version)
        complete = damage_version if self.complete_faces else None
        return RestoreRecipe(
            self.model_id,
            self.fidelity,
            self.upscale,
            self.background,
            tuple(f.index for f in faces),
            per_face,
            colour,
            repair,
            complete,
        )
