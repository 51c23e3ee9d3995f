"""A quiet command line: warnings of the libraries faceapp uses go to the log, not the output
(shown with --debug)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import require_shared

from faceapp import diagnostics
from faceapp.cli import main


@pytest.fixture
def routed():
    """Undo the global warning routing main() sets up."""
    yield
    logging.captureWarnings(False)
    diagnostics.close_logging()


@pytest.mark.parametrize("debug", [False, True])
def test_library_warnings_go_to_the_log_and_only_with_debug_to_stderr(
    debug: bool, routed, capsys: pytest.CaptureFixture[str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main([*(["--debug"] if debug else []), "models", "dir"]) == 0
        warnings.warn("a library's deprecation notice", FutureWarning, stacklevel=1)
    captured = capsys.readouterr()
    assert ("a library's deprecation notice" in captured.err) is debug
    assert "deprecation notice" not in captured.out
    log = diagnostics.log_path().read_text(encoding="utf-8")
    assert "py.warnings" in log and "FutureWarning: a library's deprecation notice" in log


@pytest.mark.shared
@pytest.mark.slow
def test_models_import_prints_only_its_own_lines(tmp_path: Path) -> None:
    model = require_shared("weights", "realesr-animevideov3.pth")
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    command = [sys.executable, "-m", "faceapp.cli", "models", "import", str(model)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[0].startswith(f"Imported '{model}' as realesr-animevideov3")
    # torch.jit.script's FutureWarning, raised inside spandrel's extra architectures, is logged.
    assert "FutureWarning" in diagnostics.log_path().read_text(encoding="utf-8")
