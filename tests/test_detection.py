"""Face detection on the real shared photos with the shipped detector.

The expected counts were checked by looking at each photo with the detections drawn on it:
every visible face found, no false positives (dogs, flowers, patterned backgrounds).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import photo_path

from benchmarks.labelled_faces import GROUPS, PORTRAITS
from faceapp.core.errors import Cancelled
from faceapp.core.faces.detection import FaceDetector
from faceapp.core.photo.reading import read_photo
from faceapp.core.progress import CancelToken, Progress


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(device="cpu")


@pytest.mark.shared
@pytest.mark.parametrize("name", PORTRAITS)
def test_portraits_have_exactly_one_face(detector: FaceDetector, name: str) -> None:
    faces = detector.detect(read_photo(photo_path(*name.split("/"))).pixels)
    assert len(faces) == 1
    assert faces[0].score > 0.9


@pytest.mark.shared
@pytest.mark.parametrize(("name", "count"), sorted(GROUPS.items()))
def test_group_photos_count(detector: FaceDetector, name: str, count: int) -> None:
    faces = detector.detect(read_photo(photo_path(*name.split("/"))).pixels)
    assert len(faces) == count


@pytest.mark.shared
def test_a_face_filling_a_20_megapixel_portrait(detector: FaceDetector) -> None:
    import cv2

    pixels = read_photo(photo_path("misc_faces", "deepface__img51.jpg")).pixels
    big = cv2.resize(pixels, (5472, 3648), interpolation=cv2.INTER_CUBIC)
    faces = detector.detect(big)
    assert len(faces) == 1
    assert faces[0].width > 1500


@pytest.mark.shared
def test_faces_are_numbered_in_reading_order(detector: FaceDetector) -> None:
    faces = detector.detect(read_photo(photo_path("group_photos", "dlib__2008_002506.jpg")).pixels)
    assert [f.index for f in faces] == list(range(len(faces)))
    xs = [f.center[0] for f in faces]
    assert xs == sorted(xs)  # one row of people, numbered left to right


@pytest.mark.shared
def test_landmarks_lie_inside_their_boxes(detector: FaceDetector) -> None:
    pixels = read_photo(photo_path("group_photos", "deepface__couple.jpg")).pixels
    for face in detector.detect(pixels):
        x1, y1, x2, y2 = face.box
        assert np.all((face.landmarks[:, 0] > x1) & (face.landmarks[:, 0] < x2))
        assert np.all((face.landmarks[:, 1] > y1) & (face.landmarks[:, 1] < y2))
        assert face.landmarks[0, 0] < face.landmarks[1, 0]  # left eye left of right eye


def test_no_faces_is_a_normal_result(detector: FaceDetector) -> None:
    assert detector.detect(np.full((300, 400, 3), 128, np.uint8)) == []


@pytest.mark.shared
def test_a_face_added_by_box_gets_landmarks(detector: FaceDetector) -> None:
    pixels = read_photo(photo_path("group_photos", "deepface__couple.jpg")).pixels
    found = detector.detect(pixels)[0]
    manual = detector.detect_in_box(pixels, found.box)
    assert manual is not None and manual.manual
    assert np.abs(manual.landmarks - found.landmarks).max() < 0.1 * found.width


@pytest.mark.shared
def test_detection_reports_progress_and_can_be_cancelled(detector: FaceDetector) -> None:
    pixels = read_photo(photo_path("group_photos", "dlib__2008_002506.jpg")).pixels
    heard: list[float] = []
    faces = detector.detect(pixels, progress=lambda p: heard.append(p.fraction))
    assert [f.box for f in faces] == [f.box for f in detector.detect(pixels)]  # same faces
    assert heard == sorted(heard) and heard[0] == 0.0 and heard[-1] == 1.0 and len(heard) > 2

    token = CancelToken()
    steps: list[float] = []

    def cancel_half_way(progress: Progress) -> None:
        steps.append(progress.fraction)
        if progress.fraction >= 0.25:
            token.cancel()

    with pytest.raises(Cancelled):
        detector.detect(pixels, token, cancel_half_way)
    assert steps[-1] < 1.0  # it stopped at the next step, not at the end
