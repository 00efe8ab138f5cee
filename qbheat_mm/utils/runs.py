"""Running tools in child processes and reading what their runs logged.

Shared by the experiments (:mod:`qbheat_mm.experiments`, run by
``tools/run_experiment.py``): each training is an ordinary ``tools/train.py``
process, its output kept in a log file, its scalars read back from MMEngine's
``vis_data/scalars.json``.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import shlex
import subprocess
import time
from glob import glob

from qbheat_mm.utils.config import REPO  # the one project root, re-exported

__all__ = ['RunFailed', 'run_logged', 'scalar_records']



class RunFailed(RuntimeError):
    """A child process run by :func:`run_logged` exited with an error."""


def run_logged(cmd: list[str], log: str, what: str, env: dict | None = None,
               hint: str = '', error: type[RunFailed] = RunFailed) -> float:
    """Run ``cmd`` from the repository root with its output in ``log``; return seconds.

    A non-zero exit raises ``error`` naming ``what`` failed, the exit status, the log and
    its last lines, then ``hint`` (what to do about it).
    """
    os.makedirs(osp.dirname(osp.abspath(log)), exist_ok=True)
    start = time.time()
    with open(log, 'w') as out:
        out.write('$ ' + ' '.join(shlex.quote(c) for c in cmd) + '\n')
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                              env={**os.environ, **(env or {})})
    if proc.returncode:
        with open(log) as f:
            tail = ''.join(f.readlines()[-5:])
        raise error(f'{what} failed with exit status {proc.returncode}; its log is {log}. '
                    f'Last lines:\n{tail}{hint}')
    return time.time() - start


def scalar_records(work_dir: str, latest_only: bool = False) -> list[dict]:
    """The records of a work dir's ``*/vis_data/scalars.json`` files, oldest run first
    (MMEngine names each run's folder by its start time); ``latest_only``: the last run's
    only."""
    paths = sorted(glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    records = []
    for path in paths[-1:] if latest_only else paths:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records
