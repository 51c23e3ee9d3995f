#!/usr/bin/env bash
# Build the faceapp desktop bundle (dist/faceapp/) with PyInstaller, then smoke-test it.
#
#   packaging/build.sh                 # build venv in .venv-build/, full bundle
#   packaging/build.sh --cpu-only      # leave out the GPU-only CUDA libraries (GPU hidden)
#   packaging/build.sh --venv .venv    # reuse an existing environment (must have the app's deps)
#   packaging/build.sh --test-only     # only smoke-test an existing dist/faceapp/
#
# Slow (many minutes; torch is big), so it is not part of CI. See packaging/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-build"
CPU_ONLY=0
BUILD=1
SAMPLE="${FACEAPP_SMOKE_PHOTO:-$ROOT/../shared/photos/group_photos/deepface__couple.jpg}"
APP="$ROOT/dist/faceapp"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --cpu-only) CPU_ONLY=1 ;;
        --venv) VENV="$(cd "$2" && pwd)"; shift ;;
        --test-only) BUILD=0 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 2 ;;
    esac
    shift
done

fail() { echo "SMOKE TEST FAILED: $*" >&2; exit 1; }

prepare_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== creating the build environment in $VENV"
        "${PYTHON:-python3}" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --upgrade pip
    fi
    if ! "$VENV/bin/python" -c "import PyInstaller, faceapp" 2>/dev/null; then
        echo "== installing faceapp and PyInstaller into $VENV"
        "$VENV/bin/python" -m pip install -e "$ROOT[packaging]"
    fi
    "$VENV/bin/python" -c "import torch, PyInstaller; print('== torch', torch.__version__, \
'(CUDA ' + (torch.version.cuda or 'none') + '), PyInstaller', PyInstaller.__version__)"
}

build() {
    local spec_args=()
    [ "$CPU_ONLY" = 1 ] && spec_args=(-- --cpu-only)
    echo "== building (this takes a while)"
    local started=$SECONDS
    (cd "$ROOT" && "$VENV/bin/python" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" \
        packaging/faceapp.spec ${spec_args[@]+"${spec_args[@]}"})
    echo "== built in $((SECONDS - started)) s"
}

# The smoke tests must not touch the developer's own settings, logs or models.
isolate_user_dirs() {
    SMOKE_HOME="$(mktemp -d)"
    trap 'rm -rf "$SMOKE_HOME"' EXIT
    local kind
    for kind in MODELS CONFIG DATA LOG CACHE; do
        export "FACEAPP_${kind}_DIR=$SMOKE_HOME/$kind"
    done
}

# A cold start, as after a reboot: drop the bundle's files (only those) from the page cache.
evict_from_page_cache() {
    "${PYTHON:-python3}" - "$APP" <<'PY' || echo "(could not evict the page cache)"
import os, sys
for folder, _, files in os.walk(sys.argv[1]):
    for name in files:
        path = os.path.join(folder, name)
        if os.path.islink(path):
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
PY
}

check_start() {
    local run out started elapsed
    for run in "cold" "warm"; do
        [ "$run" = cold ] && evict_from_page_cache
        started=$(date +%s%N)
        out="$(QT_QPA_PLATFORM=offscreen "$APP/faceapp" --quit-after-show 2>/dev/null)" \
            || fail "the window did not start ($run)"
        elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
        echo "start, $run: $out; wall $(printf '%d.%03d' $((elapsed / 1000)) $((elapsed % 1000))) s"
        case "$out" in *"torch loaded: no"*) ;; *) fail "unexpected start output: $out" ;; esac
    done
}

check_detect() {
    if [ ! -f "$SAMPLE" ]; then
        echo "detect: skipped, $SAMPLE is missing (the ../shared test data)"
        return
    fi
    local out started
    started=$SECONDS
    out="$("$APP/faceapp-cli" detect "$SAMPLE")" || fail "faceapp-cli detect failed"
    echo "detect ($((SECONDS - started)) s): $(echo "$out" | head -n 1)"
    case "$out" in *": 2 faces"*) ;; *) fail "expected 2 faces, got: $out" ;; esac
}

# A real restore through spandrel and torch, with GFPGAN-layout weights regenerated from
# ../shared/golden (the real ones cannot be shipped or downloaded here).
check_restore() {
    local golden="$ROOT/../shared/golden"
    if [ ! -f "$golden/regen_weights.py" ] || [ ! -f "$SAMPLE" ] \
        || [ ! -x "$VENV/bin/python" ]; then
        echo "restore: skipped (needs ../shared/golden, the sample photo and the build venv)"
        return
    fi
    local model="$SMOKE_HOME/gfpgan_v1.4.pth" out="$SMOKE_HOME/restored" started
    "$VENV/bin/python" - "$golden" "$model" <<'PY'
import json, sys, torch
from pathlib import Path
golden, target = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(golden))
from regen_weights import regen
folder = golden / "gfpgan_v1.4"
meta = json.loads((folder / "meta.json").read_text())
keys = json.loads((folder / "keys.json").read_text())
torch.save({"params_ema": regen(keys, meta["weights"]["scheme"])}, target)
PY
    started=$SECONDS
    "$APP/faceapp-cli" restore --model-file "$model" -o "$out" "$SAMPLE" >/dev/null \
        2>"$SMOKE_HOME/restore.log" || { cat "$SMOKE_HOME/restore.log"; fail "restore failed"; }
    [ -n "$(ls -A "$out")" ] || fail "faceapp-cli restore wrote nothing"
    echo "restore ($((SECONDS - started)) s): $(ls "$out")"
}

check_no_test_data() {
    local found
    found="$(find "$APP" \( -type d \( -name shared -o -name photos -o -name golden \) \) -o \
        \( -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.webp' -o -name '*.npy' \
        -o -name 'conftest.py' -o -name 'models_testkit.py' -o -name '*.onnx' \) \) -print)"
    found+="$(find "$APP" -type f \( -name '*.pth' -o -name '*.safetensors' \) \
        ! -path '*/resources/weights/retinaface_mobilenet0.25.pth' -print)"
    [ -z "$found" ] || fail "test data inside the bundle:"$'\n'"$found"
    echo "test data: none in the bundle"
}

report_size() {
    echo "bundle size: $(du -sh "$APP" | cut -f1) ($APP)"
    if [ -d "$APP/_internal/nvidia" ]; then
        echo "  of which NVIDIA CUDA libraries: $(du -sh "$APP/_internal/nvidia" | cut -f1)"
    fi
}

if [ "$BUILD" = 1 ]; then
    prepare_venv
    build
fi
[ -x "$APP/faceapp" ] && [ -x "$APP/faceapp-cli" ] || fail "no bundle in $APP"
isolate_user_dirs
check_start
check_detect
check_restore
check_no_test_data
report_size
echo "== smoke tests passed"
