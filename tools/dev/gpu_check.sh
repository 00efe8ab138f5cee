#!/usr/bin/env bash
# The device check as one command line for the device tool (tools/dev/gpu_check.py, whose
# docstring says what it runs); prepare here first: python tools/dev/gpu_check.py prepare
#
#   bash tools/dev/gpu_check.sh "$OUT"            (carry: .gpu_check)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ $# -ge 1 ]] || { echo "usage: bash tools/dev/gpu_check.sh OUT [--dry-run] [--no-retinanet]" >&2; exit 2; }
exec python3 tools/dev/gpu_check.py run "$@"
