"""Each face's own settings in the window: model, strength, fidelity (None: the global one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from faceapp.core.face_settings import FaceSettings
from faceapp.core.faces.quality import FaceQuality
from faceapp.core.models import store as model_store

COLOUR_NAMES = {"gpen": "GPEN colour", "picture": "picture colour", "grey": "keep grey"}


@dataclass(frozen=True)
class FaceChoice:
    model_id: str | None = None
    strength: float | None = None
    fidelity: float | None = None
    colour: str | None = None  # "gpen", "picture" or "grey"; None: the picture's colour

    @property
    def is_default(self) -> bool:
        return self == FaceChoice()


def core_settings(choices: Mapping[int, FaceChoice]) -> dict[int, FaceSettings]:
    """The pipeline's per-face settings; raises ModelNotInstalledError in plain words."""
    return {
        i: FaceSettings(
            model_store.require_model(c.model_id) if c.model_id else None,
            c.strength,
            c.fidelity,
            c.colour,
        )
        for i, c in choices.items()
        if not c.is_default
    }


def recipe_part(choices: Mapping[int, FaceChoice]) -> tuple:
    """What of the faces' own settings needs the network again (strength does not; a
    colour choice does: GPEN colours the face)."""
    return tuple(
        sorted(
            (i, c.model_id, c.fidelity, c.colour)
            for i, c in choices.items()
            if c.model_id is not None or c.fidelity is not None or c.colour is not None
        )
    )


def face_caption(number: int, quality: FaceQuality | None, choice: FaceChoice | None) -> str:
    """The face list's text, e.g. "2 · blurry · codeformer 0.7"."""
    parts = [str(number)]
    if quality is not None:
        parts.append(quality.label)
    if choice is not None and choice.model_id:
        fidelity = f" {choice.fidelity:g}" if choice.fidelity is not None else ""
        parts.append(f"{choice.model_id}{fidelity}")
    if choice is not None and choice.strength is not None:
        parts.append(f"{round(choice.strength * 100)} %")
    if choice is not None and choice.colour in COLOUR_NAMES:
        parts.append(COLOUR_NAMES[choice.colour])
    return " · ".join(parts)


def restore_note(model_id: str | None, choices: Mapping[int, FaceChoice]) -> str:
    """The "already restored" marker's note: the models used, e.g. "restored: codeformer"."""
    models = {model_id} | {c.model_id for c in choices.values() if c.model_id}
    return "restored: " + ", ".join(sorted(m for m in models if m))
