"""GPEN's face colour and face completion chosen in the window (issue 16): one face coloured by
GPEN-Colorization and one kept grey inside a DDColor-colorized picture, surviving the strength
and colour-strength sliders and the export; a damaged face completed by GPEN-Inpainting.

The GPEN-1024 golden weights are pseudo-random: their "colour" is noise, which is all these
tests need (chroma or none, the photo's light kept, the masked pixels and only they changed).
About 25 s per face at 1024 on a CPU: one face each."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from faceapp.core.models import store as model_store
from faceapp.core.photo.reading import read_photo
from faceapp.core.photo.writing import SaveOptions
from faceapp.gui.face_box import NEEDS_GPEN
from faceapp.gui.face_choices import FaceChoice

from .test_colorize import ddcolor  # noqa: F401
from .test_main_window import copy_photo, wait_ready

pytestmark = pytest.mark.shared
GPEN_TIMEOUT_MS = 900_000  # two 1024 faces through GPEN on a busy CPU


@pytest.fixture
def gpen_1024(golden_file):
    return golden_file("gpen_bfr_1024")


def _install(window, path, model_id: str) -> None:
    entry, _ = model_store.import_model(path, model_id)
    assert entry.id == model_id
    window.model_tasks.modelsChanged.emit()


def _small(tmp_path, folder: str, name: str, grey: bool):
    image = Image.open(copy_photo(tmp_path, folder, name))
    image.thumbnail((420, 420))
    target = tmp_path / f"small_{name.rsplit('.', 1)[0]}.png"
    (image.convert("L") if grey else image.convert("RGB")).save(target)
    return target


def _restore(qtbot, window) -> None:
    with qtbot.waitSignal(window.documents.previewChanged, timeout=GPEN_TIMEOUT_MS):
        window.restore_action.trigger()


def _choose_colour(window, row: int, value: str | None) -> None:
    window.faces.list.setCurrentRow(row)
    combo = window.face_box.colour
    assert combo.isVisibleTo(window)
    index = combo.findData(value)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def _inner(face, shrink: float = 0.3) -> tuple[slice, slice]:
    x0, y0, x1, y1 = face.box
    dx, dy = (x1 - x0) * shrink, (y1 - y0) * shrink
    return slice(int(y0 + dy), int(y1 - dy)), slice(int(x0 + dx), int(x1 - dx))


def _chroma(pixels: np.ndarray) -> np.ndarray:
    p = pixels.astype(int)
    return p.max(axis=2) - p.min(axis=2)


def _luma(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(float) @ np.array([0.299, 0.587, 0.114])


def test_gpen_colour_needs_its_model_and_says_so(qtbot, window, tmp_path, gpen_1024):
    window.open_paths([_small(tmp_path, "group_photos", "deepface__couple.jpg", grey=True)])
    wait_ready(qtbot, window, 1)
    window.faces.list.setCurrentRow(0)
    box = window.face_box
    assert box.colour.isVisibleTo(window)
    gpen_row = box.colour.findData("gpen")
    assert not box.colour.model().item(gpen_row).isEnabled()
    assert box.colour_note.isVisibleTo(window) and box.colour_note.text() == NEEDS_GPEN
    assert "Models" in NEEDS_GPEN and "gpen-colorization-1024" in NEEDS_GPEN
    completion = window.repair_panel
    assert not completion.complete_faces.isEnabled()
    assert completion.complete_note.isVisibleTo(window)
    _install(window, gpen_1024, "gpen-colorization-1024")  # from the model manager, say
    assert box.colour.model().item(gpen_row).isEnabled()
    assert not box.colour_note.isVisibleTo(window)


@pytest.mark.slow
def test_one_face_gpen_coloured_one_kept_grey_through_the_sliders_and_export(
    qtbot,
    window,
    tmp_path,
    gpen,
    gpen_1024,
    ddcolor,  # noqa: F811
):
    _install(window, gpen_1024, "gpen-colorization-1024")
    window.controls.set("model_id", "gpen-bfr-256")
    panel = window.controls_panel
    window.open_paths([_small(tmp_path, "group_photos", "deepface__couple.jpg", grey=True)])
    wait_ready(qtbot, window, 1)
    doc = window.documents.current
    assert doc.black_and_white and len(doc.faces) == 2
    panel.colorize.setChecked(True)
    window.faces.select_all()
    _choose_colour(window, 0, "gpen")
    assert window.face_box.colour.model().item(1).isEnabled()
    assert not window.face_box.colour_note.isVisibleTo(window)
    _choose_colour(window, 1, "grey")
    assert doc.choices == {0: FaceChoice(colour="gpen"), 1: FaceChoice(colour="grey")}
    assert "GPEN colour" in window.faces.list.item(0).text()
    _restore(qtbot, window)
    assert [c.index for c in doc.result.face_colours] == [0, 1]
    gpen_face, grey_face = (_inner(f) for f in doc.faces)
    original = _luma(doc.photo.pixels)

    calls, submit = [], window.inference.submit
    window.inference.submit = lambda kind, fn, *rest, **k: calls.append(kind)
    full = {}
    for strength, colour_strength in ((100, 100), (60, 100), (0, 100), (0, 0), (60, 30)):
        panel.strength.setValue(strength)
        panel.colour_strength.setValue(colour_strength)
        after = window.documents.render_preview(doc)
        chroma = _chroma(after[gpen_face]).mean()
        if colour_strength == 100:
            assert chroma > 8, strength
            full[strength] = chroma
        elif colour_strength == 0:  # GPEN's colour fades with the picture's: all grey
            assert _chroma(after[gpen_face]).max() <= 2
        else:  # about 30 % of the full colour, on the same faces
            assert 0.2 * full[60] < chroma < 0.4 * full[60], (chroma, full)
        assert _chroma(after[grey_face]).max() <= 1, (strength, colour_strength)  # 3-4 unpasted
        if strength == 0:  # the original faces: GPEN's colour under the photo's own light
            assert np.abs(_luma(after) - original)[gpen_face].max() <= 3
            assert np.abs(_luma(after) - original)[grey_face].max() <= 3
        if colour_strength == 0:  # the picture is grey again
            assert _chroma(after[:, :20]).max() <= 2
    assert calls == [], "the sliders must not run the network"
    window.inference.submit = submit
    preview = window.documents.render_preview(doc).copy()
    with qtbot.waitSignal(window.documents.saved, timeout=GPEN_TIMEOUT_MS) as saved:
        window.documents.export(doc, tmp_path / "out.png", SaveOptions())
    written = read_photo(saved.args[1]).pixels
    assert np.abs(written.astype(int) - preview.astype(int)).max() <= 1  # preview == export

    assert not window.documents.stale(doc)
    _choose_colour(window, 1, None)  # a new colour choice needs the network again
    assert window.documents.stale(doc)

    doc.chosen[1] = doc.result.restored[1]  # as if picked in Compare: not restored again
    _choose_colour(window, 1, "gpen")
    _restore(qtbot, window)
    assert [(c.index, c.colour is not None) for c in doc.result.face_colours] == [
        (0, True),
        (1, True),
    ]
    after = window.documents.render_preview(doc)
    assert _chroma(after[grey_face]).mean() > 8  # the picked face got GPEN's colour too
    # the result's own picture has both faces' colour too (the preview works from 8-bit
    # faces: on near-black pixels the golden weights' saturated noise colours magnify that
    # rounding a few levels; real skin colours do not)
    pixels = doc.result.photo.pixels
    assert _chroma(pixels[grey_face]).mean() > 8 and _chroma(pixels[gpen_face]).mean() > 8
    difference = np.abs(pixels.astype(int) - after.astype(int))
    assert difference.max() <= 6 and difference.mean() < 0.2


@pytest.mark.slow
def test_a_damaged_face_is_completed_where_the_mask_says_and_nowhere_else(
    qtbot, window, tmp_path, gpen, gpen_1024
):
    _install(window, gpen_1024, "gpen-inpainting-1024")
    window.controls.set("model_id", "gpen-bfr-256")
    panel = window.controls_panel
    window.open_paths([_small(tmp_path, "misc_faces", "deepface__img1.jpg", grey=False)])
    wait_ready(qtbot, window, 1)
    doc = window.documents.current
    window.faces.select_all()
    face = doc.faces[0]
    x0, y0, x1, y1 = (int(v) for v in face.box)
    mask = np.zeros(doc.photo.pixels.shape[:2], np.uint8)
    top = y0 + (y1 - y0) // 3
    mask[top : top + 5, x0 + 4 : x1 - 4] = 255  # a scratch across the eyes
    doc.damage_mask = mask
    repair = window.repair_panel
    assert repair.complete_faces.isEnabled() and not repair.complete_note.isVisibleTo(window)
    repair.complete_faces.setChecked(True)
    panel.strength.setValue(0)  # show the completed photo itself, not the restored face
    assert window.documents.recipe_for(doc).complete is not None
    _restore(qtbot, window)
    before, after = doc.photo.pixels.astype(int), window.documents.render_preview(doc).astype(int)
    damaged = mask > 0
    assert np.abs(after - before)[damaged].mean() > 5  # the masked face pixels changed
    near = np.zeros_like(mask)
    near[top - 6 : top + 11, x0 - 2 : x1 + 2] = 1  # the scratch with its feathered edge
    assert np.array_equal(after[near == 0], before[near == 0])  # the rest is the photo's
    shown = window.canvas._after  # the before/after's "after" side holds this preview
    assert shown is not None and shown._source.compositor is doc.compositor
    doc.damage_mask = None  # no damage left: the result no longer matches
    assert window.documents.stale(doc)
