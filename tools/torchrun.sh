#!/usr/bin/env bash
# Shared torchrun launcher behind dist_train.sh and dist_test.sh.
#   tools/torchrun.sh GPUS SCRIPT [script arguments...]
# GPUS is the number of processes on this node; without a GPU they run on the CPU (gloo).
# Environment: NNODES (default 1), NODE_RANK (default 0), MASTER_ADDR (default 127.0.0.1),
# PORT (the rendezvous port on MASTER_ADDR, default 29500). Multi-node: the same NNODES,
# MASTER_ADDR and PORT on every node, NODE_RANK 0..NNODES-1; node 0 is MASTER_ADDR.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 GPUS SCRIPT [script arguments...]" >&2; exit 2
fi
GPUS=$1; SCRIPT=$2; shift 2
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PORT=${PORT:-29500}
for name in GPUS NNODES NODE_RANK PORT; do
    if ! [[ ${!name} =~ ^[0-9]+$ ]]; then
        echo "$0: $name must be a non-negative integer, got '${!name}'" >&2; exit 2
    fi
done
if (( GPUS < 1 || NNODES < 1 || NODE_RANK >= NNODES )); then
    echo "$0: need GPUS >= 1, NNODES >= 1 and 0 <= NODE_RANK < NNODES" \
         "(got GPUS=$GPUS NNODES=$NNODES NODE_RANK=$NODE_RANK)" >&2; exit 2
fi
# Node 0 hosts the rendezvous on PORT: a port already taken would otherwise end in a
# long torch traceback (EADDRINUSE) after every process has started.
if (( NODE_RANK == 0 )); then
    python - "$PORT" <<'PY'
import socket
import sys

port = int(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    # SO_REUSEADDR: only a socket that is listening makes bind() fail, as for torch.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('', port))
    except OSError as error:
        with socket.socket() as free:
            free.bind(('', 0))
            suggestion = free.getsockname()[1]
        sys.exit(f'tools/torchrun.sh: port {port} is already in use ({error.strerror}); '
                 'another distributed job probably runs on it. Pick a free port with '
                 f'PORT=<port>, e.g. PORT={suggestion} tools/dist_train.sh CONFIG GPUS '
                 '(the same PORT on every node).')
PY
fi
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec python -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --master_port="$PORT" \
    --nproc_per_node="$GPUS" "$SCRIPT" "$@" --launcher pytorch
