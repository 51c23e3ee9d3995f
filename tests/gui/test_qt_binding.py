"""The Qt binding itself: a PySide6 release that breaks the app must not be installed.

PySide6 6.12.0 on Python 3.11 drops one reference to ``True`` on every ``emit()`` from Python;
when the count reaches zero the interpreter aborts ("bool_dealloc"). The window emits on every
progress report and brush dab, so a long session would crash. pyproject.toml excludes 6.12.0.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(str)


def test_emitting_a_signal_keeps_the_references_to_true(qapp) -> None:
    emitter, received = _Emitter(), []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(500):
        emitter.fired.emit("step")
    lost = before - sys.getrefcount(True)
    assert len(received) == 500
    assert lost < 50, f"{lost} references to True lost in 500 emits: a broken PySide6 build"
