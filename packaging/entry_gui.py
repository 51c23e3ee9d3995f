"""Bundle entry point of the windowed `faceapp` executable."""

import sys

if sys.platform == "win32":
    # torch's c10.dll fails to load (WinError 1114) once Qt has loaded its own DLLs first, and the
    # window loads torch later, on the worker: load c10.dll now, before PySide6 (not torch itself,
    # which would slow the start). Untested here: see packaging/README.md.
    import ctypes
    from pathlib import Path

    c10 = Path(sys._MEIPASS) / "torch" / "lib" / "c10.dll"
    if c10.is_file():
        ctypes.CDLL(str(c10))

from faceapp.gui.app import main

sys.exit(main())
