#!/usr/bin/env bash
# Training on a slurm cluster (one task per GPU; MMEngine reads the SLURM_* variables).
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
# Environment: GPUS (total, default 8), GPUS_PER_NODE (default 8, at most GPUS),
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun arguments), PORT (default 29500).
set -euo pipefail
if [[ $# -lt 4 ]]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options...]" >&2; exit 2
fi
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; WORK_DIR=$4; shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PORT=${PORT:-29500}
for name in GPUS GPUS_PER_NODE CPUS_PER_TASK PORT; do
    if ! [[ ${!name} =~ ^[1-9][0-9]*$ ]]; then
        echo "$0: $name must be a positive integer, got '${!name}'" >&2; exit 2
    fi
done
if [[ ! -f $CONFIG ]]; then
    echo "$0: config file not found: $CONFIG" >&2; exit 2
fi
# Fewer GPUs than a node has: one node with GPUS tasks (srun rejects more per node).
if (( GPUS_PER_NODE > GPUS )); then GPUS_PER_NODE=$GPUS; fi
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MASTER_PORT=$PORT
# SRUN_ARGS is split into words on purpose (several srun options in one variable).
# shellcheck disable=SC2086
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    python -u "$DIR/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "$@"
