"""Where a result came from: the command, the code's commit, the machine and the stack.

The experiments (``tools/run_experiment.py``, :mod:`qbheat_mm.experiments`) and the
benchmarks (``tools/benchmark.py``) store :func:`provenance` in their ``results.json``;
``tools/analysis/publish_results.py`` copies a finished experiment into ``docs/results/``
with it, so every number the docs quote names the command and commit that made it.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
from typing import Optional, Sequence

__all__ = ['provenance', 'results_provenance']


def provenance(argv: Optional[Sequence[str]] = None) -> dict:
    """The command (``argv``, default this process's), the time, the machine (cores,
    processor) and :func:`~qbheat_mm.utils.collect_env.collect_env` (versions, git
    commit, with a note when the checkout has uncommitted changes)."""
    from qbheat_mm.utils.collect_env import collect_env

    argv = list(sys.argv if argv is None else argv)
    from qbheat_mm.utils.config import REPO as repo
    if argv and os.path.isabs(argv[0]) and argv[0].startswith(repo + os.sep):
        argv[0] = os.path.relpath(argv[0], repo)  # the same command in any checkout
    return dict(command=' '.join(shlex.quote(a) for a in argv),
                written=datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec='seconds'),
                machine=dict(cores=os.cpu_count(), processor=platform.processor() or
                             platform.machine(), threads=os.environ.get('OMP_NUM_THREADS')),
                environment=dict(collect_env()))


def results_provenance(results_json: str, argv: Sequence[str], report_only: bool) -> dict:
    """The provenance to store in a driver's ``results.json``: this run's, or for a
    ``--report-only`` rewrite the one already there (the runs were made by that command),
    with this report's as ``reported``."""
    current = provenance(argv)
    if report_only and os.path.isfile(results_json):
        with open(results_json) as f:
            previous = json.load(f).get('provenance')
        if previous:
            return dict(previous, reported=current)
    return current
