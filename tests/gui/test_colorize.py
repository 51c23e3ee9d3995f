"""Colour for black-and-white photos in the window: shown only for them, re-blended freely."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import load_golden, photo_path
from PIL import Image

from faceapp.core.models import catalog
from faceapp.core.models import store as model_store
from faceapp.gui.main_window import MainWindow
from faceapp.gui.state import Status
from faceapp.settings import Settings, settings_from_dict

JOB_TIMEOUT_MS = 240_000

pytestmark = pytest.mark.shared


def wait_ready(qtbot, window: MainWindow, count: int) -> None:
    def settled() -> None:
        docs = window.documents.docs
        assert len(docs) == count and all(d.status is Status.READY for d in docs)

    qtbot.waitUntil(settled, timeout=JOB_TIMEOUT_MS)


def restore_current(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.documents.previewChanged, timeout=JOB_TIMEOUT_MS):
        window.restore_action.trigger()


@pytest.fixture
def ddcolor(tmp_path: Path) -> str:
    """The tiny DDColor golden weights, saved as a real file and imported like a user would."""
    sd, _meta = load_golden("ddcolor_paper_tiny")
    dim = sd["encoder.arch.norm.weight"].shape[0] if "encoder.arch.norm.weight" in sd else 768
    sd["encoder.arch.head_cls.weight"] = torch.zeros(1000, dim)  # unused by the network
    sd["encoder.arch.head_cls.bias"] = torch.zeros(1000)
    path = tmp_path / "ddcolor_paper_tiny.pth"
    torch.save({"params": sd}, path)
    entry, _installed = model_store.import_model(path)  # not the released file: its own id
    assert entry.purpose == catalog.COLOUR
    return entry.id


def _small(tmp_path: Path, grey: bool) -> Path:
    image = Image.open(photo_path("misc_faces", "deepface__img1.jpg"))
    image.thumbnail((400, 400))
    target = tmp_path / ("grey.png" if grey else "colour.png")
    (image.convert("L") if grey else image.convert("RGB")).save(target)
    return target


def _spread(pixels: np.ndarray) -> float:
    return float(np.abs(pixels.astype(int) - pixels[:, :, :1].astype(int)).max())


def test_colorize_shows_for_grey_photos_only(qtbot, window, tmp_path):
    panel = window.controls_panel
    window.open_paths([_small(tmp_path, grey=False)])
    wait_ready(qtbot, window, 1)
    assert not panel.colorize.isVisibleTo(window)
    window.open_paths([_small(tmp_path, grey=True)])
    wait_ready(qtbot, window, 2)
    window.documents.set_current(window.documents.docs[1])
    assert panel.colorize.isVisibleTo(window)
    assert not panel.colorize.isEnabled()  # no colour model installed
    assert panel.colour_model.currentText().startswith("No colour model installed")


def test_colorize_restores_in_colour_and_reblends_without_the_network(
    qtbot,
    window,
    tmp_path,
    gpen,
    ddcolor,
):
    panel = window.controls_panel
    panel.refresh_models()
    window.controls.set("model_id", "gpen-bfr-256")
    window.open_paths([_small(tmp_path, grey=True)])
    wait_ready(qtbot, window, 1)
    doc = window.documents.current
    assert doc.black_and_white and panel.colorize.isEnabled()
    assert panel.colour_model.currentData() == ddcolor
    panel.colorize.setChecked(True)
    doc.set_included(set())  # the faces are not the point here
    restore_current(qtbot, window)
    coloured = window.documents.render_preview(doc).copy()
    assert doc.result.colour is not None
    # the tiny golden weights only tint the photo: compare with the core's own result
    assert _spread(coloured) >= 3
    assert np.abs(coloured.astype(int) - doc.result.photo.pixels.astype(int)).max() <= 1

    calls, submit = [], window.inference.submit
    window.inference.submit = lambda kind, fn, *rest, **k: calls.append(kind)
    panel.colour_strength.setValue(0)
    grey = window.documents.render_preview(doc)
    assert calls == [], "a colour strength change must not run the network"
    assert _spread(grey) <= 2  # the same lightness, no colour
    original = cv2.cvtColor(doc.photo.pixels, cv2.COLOR_RGB2GRAY).astype(int)
    assert np.abs(grey[:, :, 1].astype(int) - original).max() <= 3
    panel.colour_strength.setValue(100)
    assert np.array_equal(window.documents.render_preview(doc), coloured)
    window.inference.submit = submit
    with qtbot.waitSignal(window.documents.saved, timeout=JOB_TIMEOUT_MS) as saved:
        window.save_action.trigger()
    written = np.asarray(Image.open(saved.args[1]).convert("RGB"))
    assert np.abs(written.astype(int) - coloured.astype(int)).max() <= 1  # saved in colour


def test_colour_choices_are_remembered(qtbot, ddcolor):
    first = MainWindow(Settings())
    qtbot.addWidget(first)
    first.controls_panel.colorize.setChecked(True)
    first.controls_panel.colour_strength.setValue(40)
    first.remember()
    saved = first.settings
    first.shutdown()
    assert (saved.colorize, saved.colour_model, saved.colour_strength) == (True, ddcolor, 0.4)
    again = MainWindow(settings_from_dict(asdict(saved)))  # through the file's checks
    qtbot.addWidget(again)
    panel = again.controls_panel
    assert panel.colorize.isChecked() and panel.colour_strength.value() == 40
    assert panel.colour_model.currentData() == ddcolor
    again.shutdown()
