"""Commands of the tools a plan's stages run, under the plan's launcher, and running them.

One launcher serves every plan: ``dict(type='local')`` (one process), ``dict(type='dist',
gpus=8)`` (``tools/dist_train.sh`` for trainings, ``tools/torchrun.sh`` for the other
tools) or ``dict(type='slurm', partition=..., gpus=8, gpus_per_node=8)``
(``tools/slurm_train.sh``, ``srun``), the shape of openmim's ``mim train --launcher``.
"""
from __future__ import annotations

import os.path as osp
import sys

from qbheat_mm.utils.runs import REPO, RunFailed, run_logged

from .plan import abs_path

__all__ = ['StageFailed', 'TOOLS', 'train_command', 'tool_command', 'run_stage']

TOOLS = dict(train=osp.join(REPO, 'tools', 'train.py'),
             knn=osp.join(REPO, 'tools', 'analysis', 'knn_eval.py'),
             features=osp.join(REPO, 'tools', 'analysis', 'feature_probes.py'),
             extract=osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py'))


class StageFailed(RunFailed):
    """A stage of a plan exited with an error, or finished without its result."""


def train_command(launcher: dict, config: str, work_dir: str, options: list[str],
                  job: str) -> tuple[list[str], dict]:
    """(argv, extra environment) of one ``tools/train.py`` run under ``launcher``."""
    opts = ['--cfg-options', *options] if options else []
    kind = launcher['type']
    if kind == 'local':
        return [sys.executable, TOOLS['train'], abs_path(config), '--work-dir', work_dir,
                *opts], {}
    gpus = str(launcher.get('gpus', 8))
    if kind == 'dist':
        return [osp.join(REPO, 'tools', 'dist_train.sh'), abs_path(config), gpus,
                '--work-dir', work_dir, *opts], {}
    return ([osp.join(REPO, 'tools', 'slurm_train.sh'), launcher['partition'], job,
             abs_path(config), work_dir, *opts], {'GPUS': gpus})


def tool_command(launcher: dict, tool: str, args: list[str], job: str,
                 distributed: bool = True) -> tuple[list[str], dict]:
    """(argv, extra environment) of another tool (``TOOLS``' name or a path) under
    ``launcher``; ``distributed=False`` runs it as one local process whatever the
    launcher (a tool that does no distributed work, such as the extraction)."""
    script = TOOLS.get(tool, tool)
    kind = launcher['type']
    if kind == 'local' or not distributed:
        return [sys.executable, script, *args], {}
    gpus = str(launcher.get('gpus', 8))
    if kind == 'dist':
        return [osp.join(REPO, 'tools', 'torchrun.sh'), gpus, script, *args], {}
    per_node = str(min(int(gpus), int(launcher.get('gpus_per_node', 8))))
    return (['srun', '-p', launcher['partition'], f'--job-name={job}',
             f'--gres=gpu:{per_node}', f'--ntasks={gpus}', f'--ntasks-per-node={per_node}',
             '--kill-on-bad-exit=1', 'python', '-u', script, *args, '--launcher', 'slurm'],
            {})


def run_stage(cmd: list[str], env: dict, log: str, stage: str) -> float:
    """Run ``cmd`` with its output in ``log``; returns seconds; raises StageFailed."""
    return run_logged(cmd, log, stage, env, error=StageFailed,
                      hint='Fix the cause and rerun the same command: finished stages are '
                      'not run again.')
