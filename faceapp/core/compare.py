"""Compare models on one face: every installed face model (CodeFormer-like models at several
fidelities) run on the same aligned face, so a person can choose by looking.

Each result is a RestoredFace, ready to be pasted: choosing one needs no second inference.
Results are kept in a cache keyed by (model file, fidelity) that the caller owns (one per
face), so re-opening the comparison or choosing a candidate costs nothing.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceapp.core.face_settings import model_name
from faceapp.core.faces.alignment import alignment_matrix, warp_face
from faceapp.core.faces.selection import Face
from faceapp.core.progress import CancelToken, Progress, ProgressCallback, no_progress

FIDELITIES = (0.3, 0.6, 0.9)
DEFAULT_FIDELITY = 0.5  # passed to models that have no fidelity control (they ignore it)
TILE = 256  # contact sheet tile side


@dataclass(frozen=True)
class Candidate:
    model: Path
    name: str  # the catalog id, or the file name
    fidelity: float | None = None  # only for models with a fidelity control

    @property
    def label(self) -> str:
        return self.name if self.fidelity is None else f"{self.name} (fidelity {self.fidelity:g})"

    @property
    def key(self) -> tuple[Path, float | None]:
        return (self.model, self.fidelity)


@dataclass(frozen=True)
class CandidateResult:
    candidate: Candidate
    restored: object  # pipeline.RestoredFace: the patch to paste, and the aligned input


Cache = MutableMapping[tuple[Path, float | None], CandidateResult]


def installed_face_models(ids: list[str] | None = None) -> list[tuple[str, Path]]:
    """(id, file) of the installed face models, or of `ids` (which must be installed)."""
    from faceapp.core.models import catalog, store

    if ids:
        return [(i, store.require_model(i)) for i in ids]
    entries = [e for e in catalog.catalog() if e.restores_faces]
    return [(e.id, p) for e in entries if (p := store.installed_file(e)) is not None]


def compare_face(
    engine,
    image: np.ndarray,
    face: Face,
    models: list[tuple[str, Path]],
    fidelities: tuple[float, ...] = FIDELITIES,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    cache: Cache | None = None,
    mask: str = "auto",
) -> list[CandidateResult]:
    """Every candidate for one face of a float RGB image, in the order of `models`. Results
    already in `cache` are reused; new ones are added to it."""
    from faceapp.core.pipeline import restore_faces

    cache = {} if cache is None else cache
    results: list[CandidateResult] = []
    for number, (name, path) in enumerate(models):
        progress(Progress("compare", number / len(models), f"Trying {name}"))
        model = engine.face_model(path)
        for fidelity in fidelities if model.has_fidelity else (None,):
            if cancel:
                cancel.raise_if_cancelled()
            candidate = Candidate(Path(path), name or model_name(path), fidelity)
            if candidate.key not in cache:
                level = DEFAULT_FIDELITY if fidelity is None else fidelity
                (restored,) = restore_faces(engine, model, image, [face], level, None, cancel, mask)
                cache[candidate.key] = CandidateResult(candidate, restored)
            results.append(cache[candidate.key])
    progress(Progress("compare", 1.0, "Done"))
    return results


def original_crop(image: np.ndarray, face: Face, size: int = 512) -> np.ndarray:
    """The face as it is, aligned like the candidates, for the side-by-side view."""
    return warp_face(image, alignment_matrix(face.landmarks, size), size)


def contact_sheet(
    original: np.ndarray, results: list[CandidateResult], tile: int = TILE, columns: int = 4
) -> np.ndarray:
    """uint8 RGB grid: the original first, then each candidate, each labelled underneath."""
    tiles = [_tile(original, "original", tile)]
    tiles += [_tile(r.restored.patch.restored, r.candidate.label, tile) for r in results]
    columns = min(columns, len(tiles))
    rows = -(-len(tiles) // columns)
    height = tiles[0].shape[0]
    sheet = np.full((rows * height, columns * tile, 3), 255, np.uint8)
    for i, t in enumerate(tiles):
        y, x = (i // columns) * height, (i % columns) * tile
        sheet[y : y + height, x : x + tile] = t
    return sheet


def _tile(face: np.ndarray, label: str, tile: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if face.shape[0] > tile else cv2.INTER_CUBIC
    pixels = cv2.resize(face, (tile, tile), interpolation=interpolation)
    pixels = np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)
    caption = np.full((28, tile, 3), 255, np.uint8)
    scale = min(0.5, 0.5 * tile / max(1, 11 * len(label)))
    cv2.putText(caption, label, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([pixels, caption])


def candidate_file_name(candidate: Candidate) -> str:
    """A file name for one candidate's image, e.g. "codeformer_f0.6.png"."""
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in candidate.name)
    stem = stem.removesuffix(".pth").removesuffix(".safetensors")
    return f"{stem}.png" if candidate.fidelity is None else f"{stem}_f{candidate.fidelity:g}.png"
