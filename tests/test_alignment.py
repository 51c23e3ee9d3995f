"""Alignment uses the same maths as facexlib's FaceRestoreHelper."""

from __future__ import annotations

import numpy as np
import pytest

from faceapp.core.faces.alignment import alignment_matrix, inverse_matrix, warp_face


def _facexlib_helper(face_size: int, image: np.ndarray, landmarks: np.ndarray):
    from facexlib.utils.face_restoration_helper import FaceRestoreHelper

    # FaceRestoreHelper.__init__ downloads detection weights; set only what alignment reads.
    helper = object.__new__(FaceRestoreHelper)
    template = np.array(
        [
            [192.98138, 239.94708],
            [318.90277, 240.1936],
            [256.63416, 314.01935],
            [201.26117, 371.41043],
            [313.08905, 371.15118],
        ]
    )
    helper.face_template = template * (face_size / 512.0)
    helper.face_size = (face_size, face_size)
    helper.pad_blur = False
    helper.input_img = image
    helper.all_landmarks_5 = [landmarks]
    helper.affine_matrices, helper.cropped_faces = [], []
    helper.align_warp_face()
    return helper


@pytest.mark.parametrize("size", [256, 512, 1024])
def test_matches_facexlib_face_restore_helper(size: int) -> None:
    rng = np.random.default_rng(0)
    image_u8 = rng.integers(0, 256, (600, 800, 3), dtype=np.uint8)
    landmarks = np.array([[300, 250], [380, 245], [342, 300], [310, 350], [372, 347]], float)
    helper = _facexlib_helper(size, np.ascontiguousarray(image_u8[..., ::-1]), landmarks)
    matrix = alignment_matrix(landmarks, size)
    np.testing.assert_allclose(matrix, helper.affine_matrices[0], atol=1e-9)
    ours = warp_face(image_u8.astype(np.float32) / 255, matrix, size) * 255
    theirs = helper.cropped_faces[0][..., ::-1].astype(np.float32)  # facexlib works in BGR
    assert np.abs(ours - theirs).max() <= 1.0


def test_inverse_maps_template_back_to_landmarks() -> None:
    landmarks = np.array([[300, 250], [380, 245], [342, 300], [310, 350], [372, 347]], float)
    matrix = alignment_matrix(landmarks, 512)
    aligned = np.hstack([landmarks, np.ones((5, 1))]) @ matrix.T
    back = np.hstack([aligned, np.ones((5, 1))]) @ inverse_matrix(matrix).T
    np.testing.assert_allclose(back, landmarks, atol=1e-6)
    up = np.hstack([aligned, np.ones((5, 1))]) @ inverse_matrix(matrix, 2).T
    np.testing.assert_allclose(up, landmarks * 2 + 0.5, atol=1e-6)
