"""Per-face settings: one face can use its own model, strength, fidelity and colour.

People rarely want one model and one strength for every face of a group photo: a child's
face may look best with CodeFormer at high fidelity, an adult's with GFPGAN at 0.7. A setting
left out (None) falls back to the photo's own (RestoreOptions.settings_for).

Written for the command line as "0:model=codeformer,fidelity=0.7;2:strength=0.5", or as a
JSON file {"0": {"model": "codeformer", "fidelity": 0.7}, "2": {"strength": 0.5}}.

A face's colour (for black-and-white photos): "gpen" (GPEN-Colorization colours it),
"picture" (it keeps whatever colour the picture gets) or "grey" (it stays grey inside a
colorized picture), e.g. "0:colour=gpen;1:colour=grey".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

KEYS = ("model", "strength", "fidelity", "colour")
COLOURS = ("gpen", "picture", "grey")


@dataclass(frozen=True)
class FaceSettings:
    model: Path | None = None  # a face model file; None: the photo's model
    strength: float | None = None
    fidelity: float | None = None
    colour: str | None = None  # see COLOURS; None: the photo's choice

    def __post_init__(self) -> None:
        if self.colour is not None and self.colour not in COLOURS:
            raise ValueError(f"A face's colour is gpen, picture or grey, not {self.colour!r}.")
        for name in ("strength", "fidelity"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"A face's {name} goes from 0 to 1, not {value}.")

    def over(self, base: FaceSettings) -> FaceSettings:
        """These settings, with the ones left out taken from `base`."""
        return FaceSettings(
            self.model if self.model is not None else base.model,
            self.strength if self.strength is not None else base.strength,
            self.fidelity if self.fidelity is not None else base.fidelity,
            self.colour if self.colour is not None else base.colour,
        )


PerFace = Mapping[int, FaceSettings]
ModelResolver = Callable[[str], Path]  # a model id or file name -> the file to load


def parse_face_settings(text: str, resolve_model: ModelResolver) -> dict[int, FaceSettings]:
    """Settings per face index from the compact form or a JSON file's path; ValueError in
    plain words when something does not parse."""
    text = text.strip()
    if text.lower().endswith(".json") or Path(text).is_file():
        return face_settings_from_json(Path(text), resolve_model)
    settings: dict[int, FaceSettings] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        index, _, pairs = part.partition(":")
        values = dict(_pair(pair, part) for pair in pairs.split(",") if pair.strip())
        settings[_index(index)] = _settings(values, resolve_model, part)
    return settings


def face_settings_from_json(path: Path, resolve_model: ModelResolver) -> dict[int, FaceSettings]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        message = f"Cannot read the face settings file '{path}': {error.strerror}."
        raise ValueError(message) from None
    except json.JSONDecodeError as error:
        raise ValueError(f"The face settings file '{path}' is not valid JSON: {error}.") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(
            f"The face settings file '{path}' must map face numbers to settings, e.g. "
            '{"0": {"model": "codeformer", "fidelity": 0.7}}.'
        )
    return {_index(k): _settings(v, resolve_model, f"face {k}") for k, v in data.items()}


def face_settings_from_mapping(
    data: Mapping[int, Mapping[str, object]], resolve_model: ModelResolver
) -> dict[int, FaceSettings]:
    """The Python API's form: {0: {"model": "codeformer", "fidelity": 0.7}}."""
    return {_index(str(k)): _settings(v, resolve_model, f"face {k}") for k, v in data.items()}


def _pair(pair: str, part: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not value.strip():
        raise ValueError(f"'{part}': each setting is key=value (keys: {', '.join(KEYS)}).")
    return key.strip().lower(), value.strip()


def _index(text: str) -> int:
    try:
        index = int(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a face number (they start at 0).") from None
    if index < 0:
        raise ValueError(f"'{text}' is not a face number (they start at 0).")
    return index


def _settings(values: Mapping[str, object], resolve: ModelResolver, where: str) -> FaceSettings:
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ValueError(f"'{where}': unknown setting {unknown[0]} (use {', '.join(KEYS)}).")
    model = values.get("model")
    return FaceSettings(
        resolve(str(model)) if model is not None else None,
        _number(values.get("strength"), where),
        _number(values.get("fidelity"), where),
        _colour(values.get("colour"), where),
    )


def _colour(value: object, where: str) -> str | None:
    if value is None:
        return None
    colour = str(value).strip().lower()
    if colour not in COLOURS:
        raise ValueError(f"'{where}': colour is gpen, picture or grey, not {value!r}.")
    return colour


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"'{where}': {value!r} is not a number.") from None


def model_name(path: Path | None) -> str:
    """A face model's catalog id when it is an installed catalog model, else its file name."""
    if path is None:
        return "none"
    from faceapp.core.models import catalog, store

    for entry in catalog.catalog():
        if store.installed_file(entry) == path:
            return entry.id
    return path.name
