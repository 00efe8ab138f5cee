#!/usr/bin/env bash
# Shared torchrun launcher behind dist_train.sh and dist_test.sh.
#   tools/torchrun.sh GPUS SCRIPT [script arguments...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node.
set -euo pipefail
GPUS=$1; SCRIPT=$2; shift 2
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$GPUS" "$SCRIPT" "$@" --launcher pytorch
