"""Run the real app and save screenshots of its main states (run under Xvfb, see below).

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py OUT_DIR [--dark]
    [--repair]

Uses ../shared (photos and golden weights) and throwaway user folders, never the real ones.
The photos in ../shared are third-party test data: keep these screenshots out of the docs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.golden import SHARED, golden_file  # noqa: E402
from benchmarks.userdirs import user_dirs_env  # noqa: E402

PHOTO = SHARED / "photos" / "group_photos" / "deepface__couple.jpg"
OLD_PHOTO = SHARED / "photos" / "old_photos" / "old_w_scratch__d.png"  # cracked all over


def install_golden_model(root: Path, name: str = "gpen_bfr_256") -> None:
    """Regenerated golden weights, imported the way a user imports a file."""
    from faceapp.core.models import store as model_store

    model_store.import_model(golden_file(name, root))


def install_codeformer(root: Path) -> None:
    """Golden CodeFormer as a user's own model (the official file's hash is pinned)."""
    from faceapp.core import paths
    from faceapp.core.models import store as model_store

    catalog_toml = paths.config_dir() / "catalog.toml"
    catalog_toml.parent.mkdir(parents=True, exist_ok=True)
    catalog_toml.write_text(
        '[[model]]\nid = "my-codeformer"\npurpose = "face"\narch = "CodeFormer"\n'
        'input_size = 512\nfile_name = "my_codeformer.pth"\nhas_fidelity = true\n'
    )
    model_store.import_model(golden_file("codeformer", root), as_id="my-codeformer")


def wait_until(app, condition, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the app did not reach the expected state")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.5) -> None:
    wait_until_time = time.monotonic() + seconds
    while time.monotonic() < wait_until_time:
        app.processEvents()
        time.sleep(0.02)


def shoot(app, out: Path, name: str, widget=None) -> None:
    settle(app)
    screen = app.primaryScreen()
    target = widget if widget is not None else app.activeWindow()
    pixmap = screen.grabWindow(0) if target is None else target.grab()
    pixmap.save(str(out / f"{name}.png"))
    print(out / f"{name}.png")


def repair_scenes(app, window, out: Path) -> None:
    """A brush stroke over the marked damage, the proposed mask, and the repaired result."""
    from PySide6.QtCore import QPointF

    window.open_paths([OLD_PHOTO])
    docs = window.documents
    wait_until(app, lambda: docs.docs[-1].faces or docs.docs[-1].status.name == "READY")
    docs.set_current(docs.docs[-1])
    doc = docs.current
    panel, canvas = window.repair_panel, window.canvas
    panel.size.setValue(6)
    panel.brush_action.trigger()
    width, height = doc.photo.size
    path = [(0.593 * width + 0.025 * width * i / 10, 0.15 * height * i / 10)
            for i in range(11)]  # along the crack above the man's head
    canvas.damage.press(QPointF(*path[0]))
    for point in path[1:]:
        canvas.damage.move(QPointF(*point))
    canvas.damage.end()
    canvas.damage.pointer = canvas.viewportTransform().map(QPointF(*path[-1]))
    canvas.viewport().update()
    shoot(app, out, "10-repair-brush", window)
    panel.brush_action.trigger()  # put the brush down
    import threading

    hold = threading.Event()  # the search takes well under a second: hold it to show it
    window.inference.submit("hold", lambda *_: hold.wait(30))
    panel.find_action.trigger()
    shoot(app, out, "11-repair-finding", window)
    hold.set()
    wait_until(app, lambda: window.repair_tools.job is None and panel.find_action.isEnabled())
    shoot(app, out, "12-repair-proposed", window)
    panel.show_action.setChecked(False)
    window.restore_action.trigger()
    wait_until(app, lambda: doc.result is not None and not docs.restoring())
    shoot(app, out, "13-repaired", window)


def main(out: Path, dark: bool = False, only_repair: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # throwaway user folders: weights, compiled models and settings, 1-3 GB a run
    with tempfile.TemporaryDirectory(prefix="faceapp-shots-") as folder:
        shoot_all(out, Path(folder), dark, only_repair)


def shoot_all(out: Path, root: Path, dark: bool, only_repair: bool) -> None:
    os.environ.update(user_dirs_env(root))
    install_golden_model(root)
    install_codeformer(root)

    from PySide6.QtWidgets import QApplication

    from faceapp.gui.main_window import MainWindow
    from faceapp.gui.theme import apply_theme
    from faceapp.settings import Settings

    app = QApplication(sys.argv[:1])
    apply_theme(app)
    if dark:  # what a user with a dark desktop sees (the app follows the system scheme)
        from PySide6.QtCore import Qt

        from faceapp.gui.theme import apply_scheme

        apply_scheme(app, Qt.ColorScheme.Dark)
    window = MainWindow(Settings(face_model="gpen-bfr-256"))
    window.resize(1500, 920)
    window.show()
    if only_repair:
        window.after_show([])
        repair_scenes(app, window, out)
        window.close()  # saves the settings and stops the threads
        return
    shoot(app, out, "1-empty", window)
    window.after_show([PHOTO])
    wait_until(app, lambda: window.documents.current and window.documents.current.faces)
    shoot(app, out, "2-photo-with-faces", window)
    window.faces.select_all()  # sharp faces start unselected
    window.restore_action.trigger()
    wait_until(app, lambda: window.progress.value() > 0)
    shoot(app, out, "3-restoring", window)
    wait_until(app, lambda: window.documents.current.result is not None)
    shoot(app, out, "4-compare", window)
    window.canvas.zoom_actual()
    shoot(app, out, "5-compare-100", window)
    window.faces.list.setCurrentRow(1)
    shoot(app, out, "8-face-list", window.faces)
    compare = window.compare_models(window.documents.current, 1)
    wait_until(app, lambda: compare.results, timeout=900)
    shoot(app, out, "9-compare-models", compare)
    compare.close()
    dialog = window.open_models()
    shoot(app, out, "6-model-manager", dialog)
    dialog.close()
    offer = window.offer_download("codeformer")
    shoot(app, out, "7-download-offer", offer)
    offer.close()
    repair_scenes(app, window, out)
    shoot_face_skills(app, window, out, root)
    window.close()  # saves the settings and stops the threads before the folders go


def shoot_face_skills(app, window, out: Path, root: Path) -> None:
    """GPEN's colour on one face of a black-and-white photo (the other kept grey) and a face
    completed where a scratch crossed it. The golden weights are pseudo-random: GPEN's colour
    and completion are noise; these scenes show the controls and where the results land."""
    import numpy as np
    from PIL import Image

    from faceapp.core.models import store as model_store

    gpen_1024 = golden_file("gpen_bfr_1024", root)
    for model_id in ("gpen-colorization-1024", "gpen-inpainting-1024"):
        model_store.import_model(gpen_1024, model_id)
    model_store.import_model(golden_file("ddcolor_paper_tiny", root))
    window.model_tasks.modelsChanged.emit()
    grey = root / "couple_grey.png"
    Image.open(PHOTO).convert("L").save(grey)
    doc = _open(app, window, grey)
    window.controls_panel.colorize.setChecked(True)
    window.faces.select_all()
    for row, colour in ((0, "gpen"), (1, "grey")):
        window.faces.list.setCurrentRow(row)
        window.face_tools.set_face_colour(doc, row, colour)
    window.faces.list.setCurrentRow(0)
    _restore(app, window, doc)
    window.canvas.zoom_fit()
    window.canvas.set_divider(0.15)  # both faces on the "after" side
    shoot(app, out, "14-face-colour", window)
    shoot(app, out, "15-face-colour-box", window.faces)

    damaged = root / "couple_scratched.png"
    pixels = np.asarray(Image.open(PHOTO).convert("RGB")).copy()
    mask = np.zeros(pixels.shape[:2], np.uint8)
    for face in window.documents.docs[0].faces:  # a scratch across each face's eyes
        x0, y0, x1, y1 = (int(v) for v in face.box)
        top = y0 + (y1 - y0) // 3
        mask[top : top + max(3, (y1 - y0) // 25), x0:x1] = 255
    pixels[mask > 0] = 235  # the scratch on the print itself
    doc = _open(app, window, damaged, pixels)
    doc.damage_mask = mask
    window.repair_panel.complete_faces.setChecked(True)
    window.controls_panel.strength.setValue(0)  # show the completion, not the restoration
    window.faces.select_all()
    _restore(app, window, doc)
    window.canvas.set_divider(0.4)
    shoot(app, out, "16-completed-face", window)
    window.canvas.zoom_actual()
    shoot(app, out, "17-completed-face-100", window)


def _open(app, window, path: Path, pixels=None):
    if pixels is not None:
        from PIL import Image

        Image.fromarray(pixels).save(path)
    window.open_paths([path])
    doc = window.documents.docs[-1]
    window.documents.set_current(doc)
    wait_until(app, lambda: doc.faces and doc.status.name == "READY")
    return doc


def _restore(app, window, doc) -> None:
    window.restore_action.trigger()
    wait_until(app, lambda: doc.result is not None and doc.status.name == "RESTORED", 1800)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(
        Path(args[0] if args else "/tmp/faceapp-screenshots"),
        dark="--dark" in sys.argv,
        only_repair="--repair" in sys.argv,  # only the repair scenes: quick to check
    )
