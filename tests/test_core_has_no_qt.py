"""The core must run headless: importing it never imports Qt."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import builtins, sys
real_import = builtins.__import__
def guarded(name, *args, **kwargs):
    if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'superqt', 'qtpy'):
        raise ImportError('Qt imported by the core: ' + name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = guarded
import pkgutil, importlib, faceapp.core, faceapp.api, faceapp.cli
for m in pkgutil.walk_packages(faceapp.core.__path__, 'faceapp.core.'):
    importlib.import_module(m.name)
print('ok')
"""


def test_core_imports_without_qt() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
