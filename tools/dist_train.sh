#!/usr/bin/env bash
# Multi-GPU / multi-node training through torchrun (torch.distributed.launch is deprecated).
#   tools/dist_train.sh CONFIG GPUS [tools/train.py options...]
# Without a GPU, GPUS processes train on the CPU (gloo). PORT picks the rendezvous port.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 CONFIG GPUS [tools/train.py options...]" >&2; exit 2
fi
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG=$1; GPUS=$2; shift 2
exec "$DIR/torchrun.sh" "$GPUS" "$DIR/train.py" "$CONFIG" "$@"
