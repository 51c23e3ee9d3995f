"""Per-face strengths in the live preview: one face re-blended alone, matching the export."""

from __future__ import annotations

import numpy as np

from faceapp.core.face_preview import FacePreview
from faceapp.core.faces.paste import FacePatch
from faceapp.core.faces.selection import Face
from faceapp.core.pipeline import RestoredFace, compose
from faceapp.core.preview import to_display


def _patch(x: float, y: float, seed: int) -> FacePatch:
    """A 64 px 'restored face' placed with its corner at (x, y), drawn at half size."""
    rng = np.random.default_rng(seed)
    matrix = np.array([[2.0, 0, -2 * x], [0, 2.0, -2 * y]])
    return FacePatch(rng.random((64, 64, 3), np.float32), matrix)


def _restored(patch: FacePatch, strength: float | None) -> RestoredFace:
    face = Face((0, 0, 1, 1), 1.0, np.zeros((5, 2)))
    return RestoredFace(face, patch, patch.restored, strength)


def test_one_faces_strength_matches_the_export_and_touches_only_its_group() -> None:
    background = np.full((120, 200, 3), 0.5, np.float32)
    patches = [_patch(10, 10, 1), _patch(30, 20, 2), _patch(140, 60, 3)]  # 0 and 1 overlap
    preview = FacePreview(background, patches, 1, [None, None, None])
    first = preview.render(0.8).copy()
    far_before = first[55:100, 135:180].copy()

    preview.set_face_strength(0, 0.2)
    shown = preview.display
    own = zip(patches, [0.2, None, None], strict=True)
    export = compose(background, [_restored(p, s) for p, s in own], 0.8, 1)
    assert np.array_equal(shown, to_display(export))
    assert not np.array_equal(shown[5:50, 5:70], first[5:50, 5:70])
    assert np.array_equal(shown[55:100, 135:180], far_before)  # face 2: not re-blended

    preview.set_face_strength(0, None)  # back to the global strength
    assert np.array_equal(preview.display, first)
    assert len(preview.regions) == 3
