#!/usr/bin/env bash
# One setup path: creates .venv in the repository and installs the pinned OpenMMLab stack,
# at one of two levels:
#
#   bash scripts/setup.sh               the main job (`make setup`, `make demo`): mmcv
#                                       without compiled ops, built in seconds; pre-training,
#                                       probes, k-NN, reconstructions, FLOPs, ONNX and the
#                                       benchmarks need nothing more
#   bash scripts/setup.sh --detection   MMDetection too (`make setup-det`, `make test`):
#                                       mmcv with its compiled ops, built once (about 12
#                                       minutes on 2 cores, 729 s measured) and cached
#
# A venv that has the ops keeps them: the main level never downgrades it. Pins live in
# setup.cfg only. mmcv 2.1.0 has no wheel for this torch, so it is built from source, at
# either level, into a cache folder outside the repository whose name carries everything
# the binary depends on: mmcv, torch, Python tag, machine and ops flavour (`noops`, `cpu`,
# or `cuda<torch's CUDA>_sm<target architectures>`). pip's own wheel cache keys on the
# source only and would hand back a build made against another torch, so it is never used
# for mmcv. Both builds are the one distribution `mmcv` (the sources would name the build
# without ops `mmcv-lite`, a second distribution beside a later `mmcv`): one replaces the
# other, never both. Which ops to build is decided before building, in
# scripts/mmcv_flavour.sh: CUDA ops need a GPU torch sees and an nvcc of torch's CUDA
# major version; without that nvcc it builds the CPU ops, and detection runs on the GPU
# through the fallbacks its configs name.
#
# Environment: PYTHON (interpreter, default python3.11), QBHEAT_CACHE_DIR (default
# ${XDG_CACHE_HOME:-~/.cache}/qbheat_mm), MAX_JOBS (parallel compile jobs, default what
# fits the cores and the memory), QBHEAT_MMCV_OPS (none | auto | cpu | cuda, remembered in
# .venv/.mmcv_ops; default none, or auto with --detection), CUDA_HOME,
# TORCH_CUDA_ARCH_LIST: see scripts/mmcv_flavour.sh.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3.11}"
CACHE_ROOT="${QBHEAT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qbheat_mm}"
STAMP="$VENV/.qbheat_setup_stamp"
# shellcheck source=scripts/mmcv_flavour.sh
source "$ROOT/scripts/mmcv_flavour.sh"
DETECTION=0
case "${1:-}" in
    --detection) DETECTION=1 ;;
    "") ;;
    *) echo "scripts/setup.sh: unknown argument '$1' (expected nothing, or --detection)" >&2
       exit 2 ;;
esac
# The level the venv has (remembered in .venv/.mmcv_ops) is kept unless QBHEAT_MMCV_OPS
# asks for another; --detection raises `none` to `auto`.
REMEMBERED_OPS=$(cat "$VENV/.mmcv_ops" 2>/dev/null || echo none)
REQUESTED_OPS=${QBHEAT_MMCV_OPS:-}
export QBHEAT_MMCV_OPS="${REQUESTED_OPS:-$REMEMBERED_OPS}"
if (( DETECTION )) && [[ $QBHEAT_MMCV_OPS == none ]]; then
    if [[ -n $REQUESTED_OPS ]]; then
        echo "scripts/setup.sh --detection: QBHEAT_MMCV_OPS=none asks for mmcv without its" \
             "compiled ops, which MMDetection imports; unset it (or QBHEAT_MMCV_OPS=auto)." >&2
        exit 2
    fi
    QBHEAT_MMCV_OPS=auto
fi
STEP="starting"
T0=$(date +%s)

say() { printf '[setup %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
step() { STEP="$1"; say "== $1"; }
on_error() {
    local rc=$?
    printf '\n[setup] FAILED during step: %s (exit %s)\n' "$STEP" "$rc" >&2
    printf '[setup] What to do: %s\n' "${HINT:-read the output above; rerun bash scripts/setup.sh once fixed (finished steps are skipped).}" >&2
    exit "$rc"
}
trap on_error ERR

# --- 0. interpreter ----------------------------------------------------------------------
step "check the Python interpreter ($PYTHON)"
HINT="install Python 3.11 (with venv and headers) or point PYTHON=/path/to/python3.11 at one."
command -v "$PYTHON" >/dev/null
"$PYTHON" -c 'import sys, venv; assert sys.version_info[:2] == (3, 11), sys.version'

pin() {  # pin NAME -> the exact version setup.cfg pins for NAME
    "$PYTHON" - "$ROOT/setup.cfg" "$1" <<'PY'
import configparser, re, sys
cfg = configparser.ConfigParser()
cfg.read(sys.argv[1])
text = cfg['options']['install_requires'] + '\n' + '\n'.join(cfg['options.extras_require'].values())
for line in text.splitlines():
    m = re.fullmatch(r'\s*([A-Za-z0-9_.-]+)==([^\s;]+)\s*', line)
    if m and m.group(1).lower() == sys.argv[2].lower():
        print(m.group(2)); break
else:
    sys.exit(f'setup.cfg pins no exact version of {sys.argv[2]}')
PY
}
TORCH_V=$(pin torch); TORCHVISION_V=$(pin torchvision); MMCV_V=$(pin mmcv)
OPENCV_V=$(pin opencv-python-headless)

mmcv_cache_dir() {  # mmcv_cache_dir FLAVOUR -> the cache folder of that build
    local pytag
    pytag=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    echo "$CACHE_ROOT/mmcv-${MMCV_V}_torch-${TORCH_V}_${pytag}_$(uname -m)_$1"
}

# What the installed stack must import at this level.
IMPORTS='import mmcv, mmpretrain, qbheat_mm'
[[ $QBHEAT_MMCV_OPS == none ]] || IMPORTS='import mmcv.ops, mmdet.models, mmpretrain, qbheat_mm'

# Fast path: nothing changed since the last complete run.
FINGERPRINT=$(cat "$ROOT/setup.cfg" "$ROOT/scripts/setup.sh" "$ROOT/scripts/mmcv_flavour.sh" \
              | sha256sum | cut -c1-16)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$FINGERPRINT" ]] \
   && "$VENV/bin/python" -c "$IMPORTS" 2>/dev/null; then
    if [[ $QBHEAT_MMCV_OPS == "$REMEMBERED_OPS" ]] && ! mmcv_gpu_driver_present; then
        say "environment up to date ($VENV); nothing to do"
        exit 0
    fi
    # Another QBHEAT_MMCV_OPS, or a GPU machine, which may share this venv with others (a
    # network disk): the installed mmcv must be the build this machine calls for.
    if mmcv_flavour_decide "$VENV/bin/python" 2>/dev/null \
       && [[ "$(cat "$VENV/.mmcv_from" 2>/dev/null)" == "$(mmcv_cache_dir "$MMCV_FLAVOUR")" ]]; then
        echo "$QBHEAT_MMCV_OPS" > "$VENV/.mmcv_ops"
        say "environment up to date ($VENV, mmcv ops: $MMCV_FLAVOUR); nothing to do"
        exit 0
    fi
    say "the installed mmcv ($(cat "$VENV/.mmcv_from" 2>/dev/null || echo unknown)) may not be the build this machine calls for (QBHEAT_MMCV_OPS=$QBHEAT_MMCV_OPS): setting up again"
fi

# --- 1. virtual environment ----------------------------------------------------------------
step "create the virtual environment $VENV"
HINT="on Debian/Ubuntu install python3.11-venv; or delete $VENV and rerun."
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
# mmcv's setup.py imports pkg_resources, which setuptools >= 81 removed.
"${PIP[@]}" install -q --upgrade "pip>=24" "setuptools>=77,<81" wheel

# --- 2. torch + torchvision --------------------------------------------------------------
step "install torch==$TORCH_V torchvision==$TORCHVISION_V"
HINT="pip could not install the torch pair; check the package index is reachable and has these versions."
"${PIP[@]}" install -q "torch==$TORCH_V" "torchvision==$TORCHVISION_V"

# --- 3. mmcv, built once per (mmcv, torch, python, machine, ops flavour) ------------------
step "decide which mmcv ops to build"
if ! mmcv_flavour_decide "$VENV/bin/python"; then HINT="$MMCV_STOP"; false; fi
say "$MMCV_DECISION"
echo "$QBHEAT_MMCV_OPS" > "$VENV/.mmcv_ops"
MMCV_CACHE=$(mmcv_cache_dir "$MMCV_FLAVOUR")
step "mmcv==$MMCV_V, ops: $MMCV_OPS_KIND (cache: $MMCV_CACHE)"
HINT="the mmcv build failed; its log is printed above."
installed_mmcv=$("$VENV/bin/python" -c 'import mmcv; print(mmcv.__version__)' 2>/dev/null || true)
if [[ "$installed_mmcv" == "$MMCV_V" && -f "$VENV/.mmcv_from" && "$(cat "$VENV/.mmcv_from")" == "$MMCV_CACHE" ]]; then
    say "mmcv $MMCV_V already installed from this cache"
else
    if ! compgen -G "$MMCV_CACHE/mmcv-*.whl" >/dev/null; then
        JOBS=${MAX_JOBS:-$(mmcv_max_jobs "$MMCV_OPS_KIND" "$(mmcv_machine_cores)" "$(mmcv_machine_mem_kib)")}
        if [[ $MMCV_OPS_KIND == none ]]; then
            say "no cached wheel: building mmcv $MMCV_V without compiled ops (seconds: nothing to compile)"
            HINT="the mmcv build failed; its log is printed above."
        elif [[ $MMCV_OPS_KIND == cuda ]]; then
            say "no cached wheel: building mmcv $MMCV_V with CUDA ops from source, MAX_JOBS=$JOBS (longer than the CPU-only build's 12 minutes on 2 cores: nvcc compiles the CUDA kernels too)"
            HINT="the mmcv CUDA build failed; its log is printed above. 'unsupported GNU version': nvcc rejects this gcc, install one it supports and rerun with CC=gcc-N CXX=g++-N (torch passes CC to nvcc). 'Killed' or out of memory: rerun with a smaller MAX_JOBS. Or see docs/en/get_started.md, \"Install on a GPU machine\", for CPU-only ops (QBHEAT_MMCV_OPS=cpu)."
        else
            say "no cached wheel: building mmcv $MMCV_V from source, MAX_JOBS=$JOBS (about 12 minutes on 2 cores)"
            HINT="the mmcv build failed; its log is printed above. It needs gcc/g++ with C++20 and the Python headers (apt-get install build-essential python3.11-dev)."
        fi
        BUILD_T0=$(date +%s)
        BUILD=$(mktemp -d "${TMPDIR:-/tmp}/qbheat-mmcv-build.XXXXXX")
        # --no-build-isolation: pip prepares metadata while downloading, and mmcv's setup.py
        # needs the venv's setuptools < 81 (pkg_resources) and torch for that too.
        "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_V" -d "$BUILD"
        tar -xzf "$BUILD/mmcv-$MMCV_V.tar.gz" -C "$BUILD"
        SRC="$BUILD/mmcv-$MMCV_V"
        # torch >= 2.14 headers refuse anything older than C++20; mmcv hard-codes C++17.
        sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
        grep -q -- '-std=c++20' "$SRC/setup.py"
        # Without ops the sources name the distribution mmcv-lite, which pip would keep
        # beside a later mmcv (and which does not satisfy the mmcv pin): one name for both.
        sed -i "s/name='mmcv' if os.getenv('MMCV_WITH_OPS', '1') == '1' else 'mmcv-lite'/name='mmcv'/" "$SRC/setup.py"
        grep -q "^    name='mmcv',$" "$SRC/setup.py"
        if ! ( cd "$SRC" && env MMCV_WITH_OPS=1 "${MMCV_BUILD_ENV[@]}" MAX_JOBS="$JOBS" \
                 "${PIP[@]}" wheel --no-build-isolation --no-deps --no-cache-dir -w "$BUILD/dist" . \
                 >"$BUILD/build.log" 2>&1 ); then
            tail -n 60 "$BUILD/build.log" >&2
            false
        fi
        printf '%s\nMAX_JOBS=%s\nbuild seconds: %s\n' "$MMCV_DECISION" "$JOBS" \
            "$(( $(date +%s) - BUILD_T0 ))" >"$BUILD/build-info.txt"
        mkdir -p "$CACHE_ROOT"
        # Publish atomically: a killed build never leaves a half-written wheel in the cache.
        STAGE=$(mktemp -d "$CACHE_ROOT/.stage.XXXXXX")
        cp "$BUILD"/dist/mmcv-*.whl "$BUILD/build.log" "$BUILD/build-info.txt" "$STAGE/"
        rm -rf "$MMCV_CACHE" && mv "$STAGE" "$MMCV_CACHE"
        rm -rf "$BUILD"
    fi
    HINT="the cached mmcv wheel would not install; delete $MMCV_CACHE and rerun to rebuild it."
    "${PIP[@]}" uninstall -q -y mmcv-lite 2>/dev/null || true  # one mmcv distribution only
    "${PIP[@]}" install -q --no-deps --force-reinstall "$MMCV_CACHE"/mmcv-*.whl
    if [[ $MMCV_OPS_KIND == cuda ]]; then
        HINT="the wheel in $MMCV_CACHE has no CUDA ops although it was built for them (its build.log says why); it was removed, rerun to rebuild it."
        "$VENV/bin/python" -c 'import sys; from mmcv.ops import get_compiling_cuda_version as v; sys.exit(v() == "not available")' \
            || { rm -rf "$MMCV_CACHE"; false; }
    fi
    echo "$MMCV_CACHE" > "$VENV/.mmcv_from"
fi

# --- 4. the rest of the stack and qbheat_mm itself -------------------------------------
step "install qbheat_mm (editable) with the pinned stack, tests, demo, export and lint extras"
HINT="pip could not resolve the pins in setup.cfg; the message above names the package."
# mmcv is already installed from the cache; pip sees the pin satisfied and builds nothing.
"${PIP[@]}" install -q -e "$ROOT[tests,demo,export,lint]"
# mmengine 0.10.7 declares the GUI build opencv-python, which needs libGL and shares the
# cv2 folder with the headless build: keep only the headless one.
if "${PIP[@]}" show -q opencv-python >/dev/null 2>&1; then
    "${PIP[@]}" uninstall -q -y opencv-python
    "${PIP[@]}" install -q --no-deps --force-reinstall "opencv-python-headless==$OPENCV_V"
fi

# --- 5. check -----------------------------------------------------------------------------
step "check that the stack imports"
HINT="an installed package does not import, or mmcv's CUDA ops do not run on this GPU; the report above names it. Delete $VENV and rerun."
"$VENV/bin/python" -m qbheat_mm.utils.collect_env --short
echo "$FINGERPRINT" > "$STAMP"
say "done: activate with 'source .venv/bin/activate'"
