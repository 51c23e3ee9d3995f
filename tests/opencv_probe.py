"""Run in a subprocess by test_opencv_builds.py: the real window start (offscreen), one photo
opened and its faces found on the inference thread, then `faceapp-cli detect` in-process.

Prints one JSON line: which cv2 was loaded, the Qt platform, the Qt variables OpenCV may set,
and the face counts of the window and of the command line.
"""

from __future__ import annotations

import io
import json
import os
import sys
from contextlib import redirect_stdout

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from faceapp.cli import main as cli_main
from faceapp.gui import app, main_window
from faceapp.gui.state import Status

PHOTO = sys.argv[1]
report: dict[str, object] = {}
main_window.needs_first_run = lambda: False  # no download offer: nothing to download here
_after_show = main_window.MainWindow.after_show


def after_show(window, paths) -> None:
    _after_show(window, paths)
    report["platform"] = QGuiApplication.platformName()
    report["plugin_path"] = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    report["font_dir"] = os.environ.get("QT_QPA_FONTDIR")

    def poll() -> None:
        docs = window.documents.docs
        if docs and docs[0].status in (Status.READY, Status.FAILED):
            report["window_status"] = docs[0].status.name
            report["window_faces"] = len(docs[0].faces)
            window.close()
        else:
            QTimer.singleShot(100, poll)

    poll()


main_window.MainWindow.after_show = after_show
code = app.main([PHOTO])
import cv2  # noqa: E402 - loaded by the app already; only asked which one it is

report["exit"] = code
report["cv2"] = cv2.__file__
out = io.StringIO()
with redirect_stdout(out):
    report["cli_exit"] = cli_main(["detect", "--json", PHOTO])
report["cli_faces"] = len(json.loads(out.getvalue())[0]["faces"])
print(json.dumps(report), flush=True)
