#!/usr/bin/env bash
# Set up faceapp in ./.venv (idempotent: a second run only checks what is there).
# Usage: bash scripts/setup.sh [dev]   -- "dev" adds the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
extras="${1:-}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "faceapp needs Python 3.10 or newer; found $("$PYTHON" --version 2>&1)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

stamp=".venv/.faceapp-installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  touch "$stamp"
fi

# facexlib depends on the full opencv-python. faceapp works with it too (its cv2 points Qt at
# its own Qt 5 plugins; the app removes that before Qt starts, tests/test_opencv_builds.py), but
# both builds share one cv2/ folder: uninstalling or upgrading either later breaks the other,
# and the full build adds about 75 MB and a second Qt. So keep only the headless build.
if .venv/bin/python -m pip show --quiet opencv-python >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall --quiet --yes opencv-python
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall \
    --no-deps "$(.venv/bin/python -m pip show opencv-python-headless | awk '/^Version:/{print "opencv-python-headless=="$2}')"
fi

# The window needs a few system libraries that some desktops lack (Qt would abort without them).
# Only checked and reported: installing system packages is left to the user (it needs root).
.venv/bin/python -m faceapp.gui.platform_check || true
