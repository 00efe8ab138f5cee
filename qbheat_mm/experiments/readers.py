"""Reading what stages left behind: their records, logged scalars, checkpoints, and the
finished rows of an earlier (published) ``results.json``.

One stage state serves every plan: a finished stage's folder holds ``stage.json``, written
atomically after its process exited cleanly and its result was read; a folder without it
is an unfinished stage.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from statistics import median

from qbheat_mm.engine.runner import RESUMABLE_NAME
from qbheat_mm.utils.checkpoint import is_complete_checkpoint
from qbheat_mm.utils.runs import scalar_records

from .launch import StageFailed

__all__ = ['STAGE_FILE', 'read_stage', 'write_stage', 'last_value', 'validations',
           'knn_trajectory', 'seconds_per_iter', 'last_checkpoint', 'resumable',
           'earlier_rows', 'MONITOR_KEYS']

STAGE_FILE = 'stage.json'
#: What a KNNMonitorHook logs at each check.
MONITOR_KEYS = ('knn/top1', 'knn/images_seen', 'knn/train_minutes')


def read_stage(stage_dir: str) -> dict | None:
    path = osp.join(stage_dir, STAGE_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_stage(stage_dir: str, record: dict) -> dict:
    os.makedirs(stage_dir, exist_ok=True)
    tmp = osp.join(stage_dir, STAGE_FILE + '.tmp')
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, osp.join(stage_dir, STAGE_FILE))
    return record


def last_value(work_dir: str, metric: str) -> float | None:
    """The last logged ``metric`` of a run (its final validation), or None."""
    values = [r[metric] for r in scalar_records(work_dir) if metric in r]
    return float(values[-1]) if values else None


def validations(work_dir: str, metric: str) -> list[dict]:
    """Every scalars record of a run that holds ``metric``, in order, each with ``iter``
    set to the training iteration it followed (MMEngine logs validation metrics of
    iteration-based runs with ``step`` = epoch). A resumed run logs again from its
    checkpoint's iteration: the later record of an iteration replaces the earlier one."""
    found, it = {}, 0
    for record in scalar_records(work_dir):
        if metric in record:
            found[it] = dict(record, iter=it)
        else:
            it = record.get('iter', it)
    return [found[i] for i in sorted(found)]


def knn_trajectory(work_dir: str) -> list[list[float]]:
    """``[[iteration, knn/top1, images seen, training minutes], ...]`` logged by a
    KNNMonitorHook, one entry per iteration: a resumed run's check of an iteration (or a
    failed attempt's) is replaced by the later run's."""
    checks = {r['step']: [r['step'], r['knn/top1'], *(r.get(k) for k in MONITOR_KEYS[1:])]
              for r in scalar_records(work_dir) if 'knn/top1' in r}
    return [checks[step] for step in sorted(checks)]


def seconds_per_iter(work_dir: str, log_interval: int) -> float:
    """Median training step time of a calibration run, its first logged window left out."""
    times = [r['time'] for r in scalar_records(work_dir, latest_only=True)
             if 'time' in r and 'lr' in r]  # training records (validation has no lr)
    if len(times) < 2:
        raise StageFailed(f'the calibration run in {work_dir} logged {len(times)} step '
                          'time(s); it needs at least 2 (is its logger interval '
                          f'{log_interval} iterations?)')
    return median(times[1:])


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine wrote last (its ``last_checkpoint`` file)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        path = open(marker).read().strip()
        if osp.isfile(path):
            return path
        local = osp.join(work_dir, osp.basename(path))  # the work dir was moved
        if osp.isfile(local):
            return local
    raise FileNotFoundError(f'no checkpoint in {work_dir} (no last_checkpoint file): did '
                            'the pre-training config save one at its end?')


def resumable(work_dir: str) -> bool:
    """Whether an unfinished training in ``work_dir`` has something to resume from: a
    ``last_checkpoint`` file or any complete ``iter_N.pth`` / ``epoch_N.pth``."""
    if not osp.isdir(work_dir):
        return False
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return True
    return any(RESUMABLE_NAME.match(name) and is_complete_checkpoint(osp.join(work_dir, name))
               for name in os.listdir(work_dir))


# ---- an earlier results.json ----------------------------------------------------------
def _ablation_run_as_row(run: dict) -> dict:
    """A run of an ablation's results.json (the layout before the one engine) as a row."""
    from .plan import RECON_ALSO, RECON_METRIC

    name = f"{run['scope']}_{run['operator']}_{run['mode']}"
    metrics = {k: run[k] for k in (RECON_METRIC, *RECON_ALSO) if k in run}
    return dict(pretraining=name, label=name.replace('_', ' / '), seed=run['seed'],
                commit=run.get('commit', 'unknown'),
                stages=dict(pretrain=dict(seconds=run['seconds'], commit=run.get('commit')),
                            recon=dict(value=run[RECON_METRIC], metrics=metrics,
                                       iter=run.get('iter'), curve=run.get('curve', []))))


def earlier_rows(results_json: str) -> tuple[list[dict], str]:
    """The rows of an earlier ``results.json`` (of any plan, including an ablation's
    before the one engine) and the commit it names."""
    if not osp.isfile(results_json):
        raise FileNotFoundError(f'--runs-from {results_json}: no such file')
    with open(results_json) as f:
        earlier = json.load(f)
    commit = (earlier.get('provenance') or {}).get('environment', {}).get('git commit',
                                                                          'unknown')
    runs = earlier.get('runs', [])
    rows = [_ablation_run_as_row(r) if 'operator' in r and 'stages' not in r else r
            for r in runs]
    return rows, commit
