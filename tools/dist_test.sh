#!/usr/bin/env bash
# Multi-GPU / multi-node testing through torchrun.
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py options...]
# Without a GPU, GPUS processes run on the CPU (gloo). PORT picks the rendezvous port.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node.
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [tools/test.py options...]" >&2; exit 2
fi
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG=$1; CHECKPOINT=$2; GPUS=$3; shift 3
exec "$DIR/torchrun.sh" "$GPUS" "$DIR/test.py" "$CONFIG" "$CHECKPOINT" "$@"
