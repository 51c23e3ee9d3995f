#!/usr/bin/env bash
# Set up faceapp with its test tools and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
