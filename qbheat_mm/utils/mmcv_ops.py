"""Whether this environment's mmcv has its compiled ops, and a clear stop where they are
needed.

The main job (pre-training, probes, k-NN, reconstructions, FLOPs, ONNX, the benchmarks)
runs on mmcv without compiled ops, which ``make setup`` installs in seconds. MMDetection
imports ``mmcv.ops`` when its models are imported, so detection needs the compiled build,
which ``make setup-det`` builds once and caches (scripts/setup.sh).
"""
from __future__ import annotations

import importlib.util

__all__ = ['MissingMmcvOpsError', 'SETUP_DET', 'mmcv_ops_installed', 'require_mmcv_ops']

#: The one command that builds the ops.
SETUP_DET = 'make setup-det'


class MissingMmcvOpsError(ImportError):
    """Something that needs mmcv's compiled ops runs on an mmcv without them."""


def mmcv_ops_installed() -> bool:
    """True when mmcv ships its compiled extension (``mmcv._ext``); whether it loads is
    another question, which ``qbheat_mm.utils.collect_env`` answers."""
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except ModuleNotFoundError:  # no mmcv at all
        return False


def require_mmcv_ops(what: str) -> None:
    """Raise :class:`MissingMmcvOpsError` naming ``what`` and the fix unless the ops are
    installed."""
    if not mmcv_ops_installed():
        raise MissingMmcvOpsError(
            f"{what} needs MMDetection, which imports mmcv's compiled ops (mmcv.ops), and "
            "this environment has mmcv without them: the main job's set-up level, which "
            'pre-training, probing and the benchmarks need no more than. Build the ops once '
            f'(about 12 minutes on 2 cores, cached outside the repository): {SETUP_DET}')
