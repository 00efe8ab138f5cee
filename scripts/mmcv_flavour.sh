#!/usr/bin/env bash
# Which mmcv ops to build, decided before anything is built. scripts/setup.sh sources this
# file; run it directly to see the decision for a Python that has torch (builds nothing):
#
#   bash scripts/mmcv_flavour.sh .venv/bin/python
#
# - QBHEAT_MMCV_OPS=none: no compiled ops at all (cache suffix `noops`), what the main job
#   needs (pre-training, probes, k-NN, reconstructions, FLOPs, ONNX); built in seconds.
# - torch sees no GPU: CPU-only ops (cache suffix `cpu`).
# - torch sees a GPU and an nvcc of torch's CUDA major version is found: CUDA ops for the
#   target architectures (cache suffix `cuda<torch CUDA>_sm<archs>`).
# - torch sees a GPU and no such nvcc: CPU-only ops, and detection runs on the GPU through
#   the fallbacks its configs name (qbheat_mm/det/fallbacks.py: a PyTorch focal loss,
#   torchvision's NMS); QBHEAT_MMCV_OPS=cuda insists on mmcv's CUDA kernels and stops,
#   naming what is missing, before any build.
#
# Environment:
#   QBHEAT_MMCV_OPS        auto (default) | none (no compiled ops) | cpu (CPU-only ops even
#                          with a GPU) | cuda (CUDA ops even without a visible GPU, for
#                          TORCH_CUDA_ARCH_LIST; stops without a toolkit)
#   CUDA_HOME, CUDA_PATH   the toolkit to build with; when set, the only one considered
#   TORCH_CUDA_ARCH_LIST   target architectures ("8.6;9.0"); default: the GPUs torch sees
#   QBHEAT_CUDA_LOCATIONS  where to look for toolkits after PATH (globs, space-separated)
#   MAX_JOBS               parallel compile jobs (default: what fits cores and memory)

QBHEAT_CUDA_LOCATIONS_DEFAULT='/usr/local/cuda /usr/local/cuda-* /opt/cuda /opt/nvidia/cuda'
# Peak memory of one compile job of mmcv's ops: nvcc on the larger .cu files needs about
# 2 GiB, g++ on the .cpp files about 1 GiB. More jobs than fit make the machine swap or the
# kernel kill the build long after it started.
MMCV_GIB_PER_JOB_CUDA=2
MMCV_GIB_PER_JOB_CPU=1
# Headers torch's ATen/cuda/CUDAContextLight.h includes, and with it every mmcv CUDA op: a
# toolkit with nvcc but without the library headers (an nvcc-only package) fails the build.
MMCV_TOOLKIT_HEADERS='cuda_runtime_api.h cusparse.h cublas_v2.h cublasLt.h cusolverDn.h'

# Prints, one a line: torch's CUDA version (or -), the number of GPUs torch sees, their
# compute capabilities (or -), their names (or -).
_MMCV_TORCH_PROBE='
import torch
n = torch.cuda.device_count() if torch.cuda.is_available() else 0
names = [torch.cuda.get_device_name(i) for i in range(n)]
print(torch.version.cuda or "-")
print(n)
print(" ".join(sorted({"%d.%d" % torch.cuda.get_device_capability(i) for i in range(n)})) or "-")
print(", ".join(f"{names.count(x)}x {x}" for x in dict.fromkeys(names)) or "-")
'

# mmcv_max_jobs KIND CORES MEM_KIB -> parallel compile jobs that fit both (at least 1).
mmcv_max_jobs() {
    local kind=$1 cores=$2 mem_kib=$3 per_job_gib
    case $kind in
        cuda) per_job_gib=$MMCV_GIB_PER_JOB_CUDA ;;
        cpu) per_job_gib=$MMCV_GIB_PER_JOB_CPU ;;
        none) echo 1; return 0 ;;  # nothing to compile
        *) echo "mmcv_max_jobs: kind must be none, cpu or cuda, not '$kind'" >&2; return 2 ;;
    esac
    local by_mem=$(( mem_kib / (per_job_gib * 1024 * 1024) ))
    local jobs=$(( cores < by_mem ? cores : by_mem ))
    echo $(( jobs > 1 ? jobs : 1 ))
}

# The cores this process may use (compile jobs are processes: OMP_NUM_THREADS, which
# nproc also honours, says nothing about them).
mmcv_machine_cores() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }

# Memory available now, in KiB: MemAvailable, capped by a cgroup (container) limit.
mmcv_machine_mem_kib() {
    local kib limit used
    kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null)
    kib=${kib:-0}
    if [[ -r /sys/fs/cgroup/memory.max ]]; then                       # cgroup v2
        limit=$(cat /sys/fs/cgroup/memory.max)
        used=$(cat /sys/fs/cgroup/memory.current 2>/dev/null || echo 0)
    elif [[ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then   # cgroup v1
        limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
        used=$(cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || echo 0)
    fi
    if [[ ${limit:-max} =~ ^[0-9]+$ ]] && (( (limit - used) / 1024 < kib )); then
        kib=$(( (limit - used) / 1024 ))
    fi
    echo "$kib"
}

# The release of an nvcc ("12.4"), empty when it does not run or says no release.
mmcv_nvcc_release() {
    "$1" --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1
}

# Compute capability CAP ("8.6") runs code built for ARCHS ("8.0;9.0+PTX"): the same
# architecture, an older minor of the same major (binary compatible), or older PTX (JIT).
mmcv_archs_cover() {
    local cap=$1 entry arch
    for entry in ${2//;/ }; do
        arch=${entry%+PTX}
        [[ ${arch%[af]} == "$cap" ]] && return 0
        [[ ${arch%%.*} == "${cap%%.*}" && ${arch#*.} =~ ^[0-9]+$ && ${arch#*.} -le ${cap#*.} ]] \
            && return 0
        [[ $entry == *+PTX && $arch =~ ^[0-9]+\.[0-9]+$ ]] \
            && (( ${arch%%.*} * 10 + ${arch#*.} <= ${cap%%.*} * 10 + ${cap#*.} )) && return 0
    done
    return 1
}

# "8.6;9.0+PTX" -> "sm86-sm90ptx": architectures in a folder name.
mmcv_arch_key() {
    local entry keys=()
    for entry in ${1//;/ }; do
        entry=${entry,,}; entry=${entry//./}; keys+=("sm${entry//+/}")
    done
    local IFS=-
    echo "${keys[*]}"
}

# mmcv_flavour_decide PYTHON: decide from PYTHON's torch and the toolkits found. Returns 0
# and sets MMCV_FLAVOUR (cache suffix), MMCV_OPS_KIND (none | cpu | cuda), MMCV_BUILD_ENV
# (array of VAR=value for the build), MMCV_DECISION (one line); or returns 1 with MMCV_STOP
# (what is missing and the ways on).
mmcv_flavour_decide() {
    local py=$1 mode=${QBHEAT_MMCV_OPS:-auto} probe torch_cuda ngpu caps gpus
    MMCV_FLAVOUR='' MMCV_OPS_KIND='' MMCV_BUILD_ENV=() MMCV_DECISION='' MMCV_STOP=''
    local optin="rerun with QBHEAT_MMCV_OPS=cpu for CPU-only mmcv ops (what the set-up
      picks on its own without QBHEAT_MMCV_OPS=cuda): pre-training on the GPU works, and
      the project's RetinaNet configs run on the GPU through their fallbacks (a PyTorch
      focal loss, torchvision's NMS); mmcv's other CUDA kernels are then missing; the
      choice is kept in .venv/.mmcv_ops until QBHEAT_MMCV_OPS=auto"
    case $mode in
        none)
            MMCV_FLAVOUR=noops MMCV_OPS_KIND=none
            MMCV_BUILD_ENV=(MMCV_WITH_OPS=0 CUDA_VISIBLE_DEVICES=)
            MMCV_DECISION="mmcv ops: none (the main job needs none; detection: make setup-det)"
            return 0 ;;
        auto|cpu|cuda) ;;
        *) MMCV_STOP="QBHEAT_MMCV_OPS=$mode: expected auto, none, cpu or cuda."; return 1 ;;
    esac
    if ! probe=$("$py" -c "$_MMCV_TORCH_PROBE"); then
        MMCV_STOP="$py could not import torch to decide which mmcv ops to build (traceback above)."
        return 1
    fi
    { read -r torch_cuda; read -r ngpu; read -r caps; read -r gpus; } <<<"$probe"
    if [[ ! ${ngpu:-} =~ ^[0-9]+$ ]]; then
        MMCV_STOP="$py printed no GPU count for the torch probe: got '$probe'."
        return 1
    fi

    if [[ $mode == cpu || ( $mode == auto && $ngpu == 0 ) ]]; then
        MMCV_FLAVOUR=cpu MMCV_OPS_KIND=cpu
        # mmcv's setup.py compiles CUDA ops whenever torch sees a GPU: hide them.
        MMCV_BUILD_ENV=(CUDA_VISIBLE_DEVICES=)
        if (( ngpu == 0 )); then
            MMCV_DECISION="mmcv ops: CPU-only (torch sees no GPU)"
        else
            MMCV_DECISION="mmcv ops: CPU-only, as QBHEAT_MMCV_OPS=cpu asks, although torch sees $gpus: detection runs on the GPU through the fallbacks its configs name (PyTorch focal loss, torchvision NMS); mmcv's CUDA kernels are missing"
        fi
        return 0
    fi

    local seen="torch sees $gpus"
    (( ngpu == 0 )) && seen="QBHEAT_MMCV_OPS=cuda asks for CUDA ops"
    if [[ $torch_cuda == - ]]; then
        MMCV_STOP="$seen, but this torch is not a CUDA build (torch.version.cuda is None), so
  mmcv's CUDA ops cannot be built against it. Install the pinned CUDA build of torch, or
  $optin."
        return 1
    fi

    local archs=${TORCH_CUDA_ARCH_LIST:-} cap
    if [[ -z $archs ]]; then
        if [[ $caps == - ]]; then
            MMCV_STOP="$seen, but no GPU is visible to pick the architectures: set
  TORCH_CUDA_ARCH_LIST to the GPUs the build is for (e.g. TORCH_CUDA_ARCH_LIST='8.0;9.0')."
            return 1
        fi
        archs=$caps
    fi
    archs=$(printf '%s\n' ${archs//;/ } | sort -uV | paste -sd ';')
    if [[ -n ${TORCH_CUDA_ARCH_LIST:-} && $caps != - ]]; then
        for cap in $caps; do
            if ! mmcv_archs_cover "$cap" "$archs"; then
                MMCV_STOP="TORCH_CUDA_ARCH_LIST='$archs' does not cover this machine's GPU
  (compute capability $cap; $gpus): the ops would not run here. Add $cap to it, or unset
  it to build for the GPUs torch sees (to build for other GPUs only, hide this one:
  CUDA_VISIBLE_DEVICES= QBHEAT_MMCV_OPS=cuda)."
                return 1
            fi
        done
    fi

    # The toolkit: CUDA_HOME or CUDA_PATH when set (an explicit choice), else PATH, then
    # the usual install locations. The first whose CUDA major version is torch's wins.
    local need=${torch_cuda%%.*} candidates=() looked=() nvcc release home pattern
    if [[ -n ${CUDA_HOME:-} || -n ${CUDA_PATH:-} ]]; then
        local var=CUDA_HOME; [[ -n ${CUDA_HOME:-} ]] || var=CUDA_PATH
        candidates=("${!var}/bin/nvcc")
        looked=("$var=${!var}")
    else
        looked=("CUDA_HOME: not set")
        if nvcc=$(command -v nvcc); then candidates+=("$nvcc"); else looked+=("PATH: no nvcc"); fi
        for pattern in ${QBHEAT_CUDA_LOCATIONS-$QBHEAT_CUDA_LOCATIONS_DEFAULT}; do
            for home in $pattern; do
                [[ -x $home/bin/nvcc ]] && candidates+=("$home/bin/nvcc")
            done
        done
        local where=${QBHEAT_CUDA_LOCATIONS-$QBHEAT_CUDA_LOCATIONS_DEFAULT}
        (( ${#candidates[@]} )) || [[ -z $where ]] || looked+=("no nvcc in $where")
    fi
    local chosen='' chosen_release='' tried=' '
    for nvcc in "${candidates[@]}"; do
        if [[ ! -x $nvcc ]]; then looked+=("$nvcc: missing"); continue; fi
        # The toolkit holds the real nvcc: PATH may have a symlink (/usr/local/bin/nvcc),
        # and /usr/local/cuda is usually a symlink to one of /usr/local/cuda-*.
        nvcc=$(readlink -f "$nvcc")
        [[ $tried == *" $nvcc "* ]] && continue
        tried+="$nvcc "
        release=$(mmcv_nvcc_release "$nvcc")
        if [[ -z $release ]]; then looked+=("$nvcc: prints no CUDA release"); continue; fi
        if [[ ${release%%.*} != "$need" ]]; then looked+=("$nvcc: CUDA $release"); continue; fi
        home=$(cd "$(dirname "$nvcc")/.." && pwd)
        local header missing=()
        for header in $MMCV_TOOLKIT_HEADERS; do
            [[ -f $home/include/$header ]] || missing+=("$header")
        done
        if (( ${#missing[@]} )); then
            looked+=("$nvcc: CUDA $release, but $home/include lacks ${missing[*]}")
            continue
        fi
        chosen=$nvcc chosen_release=$release
        break
    done
    if [[ -z $chosen ]]; then
        local found
        found=$(printf '; %s' "${looked[@]}")
        if [[ $mode == auto ]]; then  # no toolkit: CPU ops, detection through the fallbacks
            MMCV_FLAVOUR=cpu MMCV_OPS_KIND=cpu
            MMCV_BUILD_ENV=(CUDA_VISIBLE_DEVICES=)
            MMCV_DECISION="mmcv ops: CPU-only: torch sees $gpus but no nvcc of torch's CUDA $need.x was found (${found#; }); detection runs on the GPU through the fallbacks its configs name (PyTorch focal loss, torchvision NMS); for mmcv's CUDA kernels install a CUDA $need.x toolkit and rerun with QBHEAT_MMCV_OPS=cuda"
            return 0
        fi
        MMCV_STOP="$seen and torch is built with CUDA $torch_cuda, so mmcv's CUDA ops need
  nvcc from a CUDA $need.x toolkit; none was found (${found#; }).
  Two ways on:
   1. install a full CUDA $need.x toolkit: nvcc and the cuBLAS, cuSPARSE and cuSOLVER
      headers torch includes (the driver has none of them), e.g. NVIDIA's package
      cuda-toolkit-${torch_cuda/./-} or its runfile, and rerun; set CUDA_HOME to it unless
      it is /usr/local/cuda or its nvcc is on PATH;
   2. $optin."
        return 1
    fi

    MMCV_FLAVOUR="cuda${torch_cuda}_$(mmcv_arch_key "$archs")" MMCV_OPS_KIND=cuda
    MMCV_BUILD_ENV=(FORCE_CUDA=1 "CUDA_HOME=$home" "TORCH_CUDA_ARCH_LIST=$archs"
                    "PATH=$home/bin:$PATH")
    MMCV_DECISION="mmcv ops: CUDA, for TORCH_CUDA_ARCH_LIST='$archs' ($seen), built with $chosen (CUDA $chosen_release; torch's CUDA $torch_cuda)"
}

# A GPU driver is installed: only then can torch see a GPU (cheap: runs no Python).
mmcv_gpu_driver_present() {
    [[ -e /dev/nvidiactl || -e /dev/nvidia0 || -d /proc/driver/nvidia/gpus ]] \
        || command -v nvidia-smi >/dev/null
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then  # run, not sourced: print the decision
    set -uo pipefail
    if ! mmcv_flavour_decide "${1:-python3}"; then
        printf 'mmcv ops: STOP\n%s\n' "$MMCV_STOP" >&2
        exit 1
    fi
    echo "$MMCV_DECISION"
    echo "flavour=$MMCV_FLAVOUR"
    echo "build_env=${MMCV_BUILD_ENV[*]}"
    echo "max_jobs=${MAX_JOBS:-$(mmcv_max_jobs "$MMCV_OPS_KIND" "$(mmcv_machine_cores)" "$(mmcv_machine_mem_kib)")}"
fi
