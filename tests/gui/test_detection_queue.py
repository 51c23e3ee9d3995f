"""The order photos are searched for faces in: the one on screen first, a clicked photo next,
and closing a photo stops its search. One inference thread runs everything."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path
from PIL import Image

from faceapp.core.errors import Cancelled
from faceapp.core.faces.detection import FaceDetector
from faceapp.gui import inference, photo_jobs
from faceapp.gui.inference import JobToken
from faceapp.gui.job_queue import JobQueue, Priority
from faceapp.gui.state import Status

TIMEOUT_MS = 240_000


def small_photos(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"photo{i}.png"
        Image.fromarray(np.full((40, 60, 3), 20 * i, np.uint8)).save(path)
        paths.append(path)
    return paths


def test_the_queue_runs_the_most_urgent_first_and_moves_waiting_items() -> None:
    queue: JobQueue[str] = JobQueue()
    queue.put("a", Priority.BACKGROUND)
    queue.put("b", Priority.VISIBLE)
    queue.put("c", Priority.BACKGROUND)
    queue.put("now", Priority.NOW)
    assert queue.move("c", Priority.SELECTED)
    assert [queue.get() for _ in range(4)] == ["now", "c", "b", "a"]
    assert not queue.move("a", Priority.NOW)  # no longer waiting


def test_a_photo_clicked_during_a_detection_is_detected_next(qtbot, window, tmp_path, monkeypatch):
    order: list[str] = []
    first_started, release = threading.Event(), threading.Event()

    def detect_job(photo):
        def run(engine, progress, cancel):
            order.append(photo.path.name)
            if len(order) == 1:
                first_started.set()
                assert release.wait(60)
            return [], []  # faces, their quality

        return run

    monkeypatch.setattr(photo_jobs, "detect_job", detect_job)
    paths = small_photos(tmp_path, 5)
    window.open_paths(paths)
    docs = window.documents.docs
    qtbot.waitUntil(first_started.is_set, timeout=TIMEOUT_MS)
    window.photos.setCurrentRow(3)  # the user clicks the fourth photo
    assert window.documents.current is docs[3]
    release.set()
    qtbot.waitUntil(lambda: all(d.status is Status.READY for d in docs), timeout=TIMEOUT_MS)
    assert order[:2] == ["photo0.png", "photo3.png"]  # the selected one, then the clicked one
    assert sorted(order) == [p.name for p in paths]  # every photo once


@pytest.mark.shared
def test_closing_a_photo_cancels_its_detection(qtbot, window, tmp_path):
    big = tmp_path / "couple.jpg"
    image = Image.open(photo_path("group_photos", "deepface__couple.jpg"))
    image.resize((image.width * 2, image.height * 2)).save(big, quality=90)
    window.open_paths([big])
    doc = window.documents.current
    qtbot.waitUntil(lambda: "%" in doc.status_text, timeout=TIMEOUT_MS)  # its progress shows
    assert doc.status_text.startswith("Finding faces… ") and doc.status_text.endswith(" %")
    job = next(j for j in window.inference.jobs() if j.kind == "open")
    outcome: list[str] = []
    job.cancelled.connect(lambda: outcome.append("cancelled"))
    job.finished.connect(lambda _faces: outcome.append("finished"))
    window.close_photo_action.trigger()
    assert window.documents.docs == [] and window.photos.count() == 0
    qtbot.waitUntil(lambda: bool(outcome), timeout=TIMEOUT_MS)
    assert outcome == ["cancelled"]
    assert doc.faces == []


def test_the_detection_job_stops_at_its_next_step_when_cancelled() -> None:
    steps_done: list[int] = []

    class Detector:
        def detect_steps(self, pixels):
            for step in range(3):
                yield step / 3
                steps_done.append(step)
            return []

    class Engine:
        def detector(self):
            return Detector()

    class Photo:
        pixels = np.zeros((4, 4, 3), np.uint8)

    token = JobToken()
    heard = []

    def progress(p) -> None:
        heard.append(p.fraction)
        if len(heard) == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        photo_jobs.detect_job(Photo())(Engine(), progress, token)
    assert steps_done == [0]  # the step after the cancel did not run


def test_photos_let_go_of_their_pixels_and_come_back_when_selected(
    qtbot, window, tmp_path, monkeypatch
):
    monkeypatch.setattr(photo_jobs, "detect_job", lambda photo: lambda *_: ([], []))
    window.documents.memory.budget = 0  # keep only the photo on screen decoded
    window.open_paths(small_photos(tmp_path, 3))
    docs = window.documents.docs
    qtbot.waitUntil(lambda: all(d.status is Status.READY for d in docs), timeout=TIMEOUT_MS)
    assert docs[0].photo is not None  # on screen
    assert docs[1].photo is None and docs[2].photo is None
    assert window.documents.memory.released(docs[2])
    window.photos.setCurrentRow(2)
    qtbot.waitUntil(lambda: docs[2].photo is not None, timeout=TIMEOUT_MS)
    assert docs[2].photo.pixels[0, 0, 0] == 40 and docs[2].status is Status.READY
    assert not window.documents.memory.released(docs[2])
    assert window.canvas._before is not None  # the canvas shows it again
    qtbot.waitUntil(lambda: docs[0].photo is None, timeout=TIMEOUT_MS)  # no longer on screen


def test_thumbnails_are_made_for_the_rows_in_view(qtbot, window, tmp_path):
    window.documents.order.set_visible = lambda docs: None  # the order is tested above
    window.open_paths(small_photos(tmp_path, 3))
    qtbot.waitUntil(
        lambda: all(not window.photos.item(i).icon().isNull() for i in range(3)),
        timeout=TIMEOUT_MS,
    )
    assert window.photos.visible_docs() == window.documents.docs


def test_a_long_detection_pauses_for_a_clicked_photo_and_goes_on_after(
    qtbot, window, tmp_path, monkeypatch
):
    """A crowd that takes long does not hold back a portrait: it pauses between two steps
    and later goes on from where it was, not from the start."""
    started: list[str] = []
    finished: list[str] = []
    gate = threading.Event()

    def detect_steps(self, pixels):
        name = f"photo{int(pixels[0, 0, 0]) // 20}.png"
        started.append(name)
        for step in range(40 if name == "photo0.png" else 1):
            yield step / 40
            if step == 2:
                gate.wait(60)  # holds the crowd until the test has clicked
            time.sleep(0.05 if name == "photo0.png" else 0)
        finished.append(name)
        return []

    monkeypatch.setattr(FaceDetector, "detect_steps", detect_steps)
    window.open_paths(small_photos(tmp_path, 4))
    docs = window.documents.docs
    qtbot.waitUntil(lambda: started == ["photo0.png"], timeout=TIMEOUT_MS)
    window.photos.setCurrentRow(2)  # clicked while photo0 is being searched
    gate.set()
    qtbot.waitUntil(lambda: docs[2].status is Status.READY, timeout=TIMEOUT_MS)
    assert docs[0].status is Status.DETECTING  # paused half way...
    qtbot.waitUntil(lambda: all(d.status is Status.READY for d in docs), timeout=TIMEOUT_MS)
    assert finished[0] == "photo2.png" and finished.count("photo0.png") == 1
    assert started.count("photo0.png") == 1  # ...and went on, not started again


def test_a_crowd_lets_the_photos_queued_after_it_go_first(qtbot, window, tmp_path, monkeypatch):
    """Photos of the same priority: the long one pauses after its time slice for the others
    (and goes on after them), so small photos are not held back by one big crowd."""
    finished: list[str] = []
    crowd_steps: list[int] = []

    def detect_steps(self, pixels):
        name = f"photo{int(pixels[0, 0, 0]) // 20}.png"
        for step in range(30 if name == "photo1.png" else 1):
            yield step / 30
            if name == "photo1.png":
                crowd_steps.append(step)
                time.sleep(0.05)
        finished.append(name)
        return []

    monkeypatch.setattr(FaceDetector, "detect_steps", detect_steps)
    monkeypatch.setattr(inference, "SLICE_S", 0.3)
    window.documents.order.set_visible = lambda docs: None  # all in one tier: the rest
    window.open_paths(small_photos(tmp_path, 4))  # photo1, the crowd, comes second
    docs = window.documents.docs
    qtbot.waitUntil(lambda: all(d.status is Status.READY for d in docs), timeout=TIMEOUT_MS)
    assert finished == ["photo0.png", "photo2.png", "photo3.png", "photo1.png"]
    assert crowd_steps == list(range(30))  # every step once: it went on, it did not restart
