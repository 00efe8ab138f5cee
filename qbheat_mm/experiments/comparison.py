"""A comparison of pre-trainings of one backbone: pre-train, extract, probe, detect, tabulate.

    python tools/run_experiment.py PLAN --work-dir DIR [--seeds 0 1]
        [--only NAME ...] [--with NAME ...] [--dry-run] [--report-only]
        [--plan-options k=v ...]

PLAN is a plan file of ``type = 'comparison'`` (``configs/experiments/laptop.py``,
``configs/experiments/paper_in1k.py``) with these entries:

- ``pretrainings``: a list of ``dict(name, label, config, cfg_options=[...],
  minutes=None)``; a ``config`` of None is the random-init row (nothing to pre-train).
  With ``minutes``, the pre-training gets that wall-clock budget instead of its config's
  length: a ``calibrate`` stage times ``CALIBRATION_ITERS`` iterations of it (median of
  the logged step times, the first window left out as warm-up) and the ``pretrain``
  stage runs ``train_cfg.max_iters`` = budget / step time (so its config's schedules
  must end at ``max_iters``: no explicit ``end``);
- ``evaluations``: a list of ``dict(name, label, config, metric, kind='train' | 'knn',
  scale=1.0)``: a frozen-backbone config (probe or detector, trained by
  ``tools/train.py``; its last validation's ``metric`` is the result) or a k-NN config
  (``tools/analysis/knn_eval.py``); ``scale`` multiplies the logged value for the table
  (100 turns COCO's mAP fraction into AP in percent); ``cfg_options`` for every run,
  ``random_cfg_options`` for the random row only; ``optional=True`` leaves it out
  unless ``--with NAME`` asks for it;
- ``launcher``: ``dict(type='local')`` (one process each), ``dict(type='dist', gpus=8)``
  (``tools/dist_train.sh`` / ``tools/torchrun.sh``) or ``dict(type='slurm',
  partition=..., gpus=8)`` (``tools/slurm_train.sh`` / ``srun``);
- optionally ``reference``: the pre-training every other row is compared with in the
  table of differences (mean difference per evaluation, and whether it exceeds the
  seed spread of both rows).

For each pre-training and seed, in order: ``pretrain`` (``tools/train.py CONFIG``),
``extract`` (``tools/model_converters/extract_backbone.py`` of its last checkpoint), then
every evaluation with ``model.backbone.init_cfg.checkpoint`` set to the extracted
backbone (``model.backbone.init_cfg=None`` for the random row). Every stage runs in its
own process with its own work dir, ``DIR/<name>_seed<S>/<stage>/``, and writes
``stage.json`` when it succeeds; a rerun skips finished stages, so an interrupted or
failed pipeline continues where it stopped; a pre-training killed after a checkpoint
resumes from it (``tools/train.py --resume``). A failing stage stops the pipeline with
the stage, the pre-training, the seed and its log named.

Written to DIR: ``results.md`` (rows: pre-trainings; columns: the evaluations, the
pre-training time and, when monitored, the images seen; every cell links to its run
directory; mean and spread over seeds; the differences from the ``reference`` row),
``results.csv`` (the same table), ``results.json`` (every run), ``results.png`` (a
grouped bar chart) and, when the pre-trainings ran a ``KNNMonitorHook``, ``curves.png``
(its k-NN top-1 against images seen and against training minutes, every row and
seed). ``--dry-run`` prints every command without running it; ``--report-only``
tabulates the stages that have finished; ``--with NAME`` adds optional evaluations.

A long comparison may span sessions on machines that do not keep the work dir:
``--runs-from RESULTS_JSON`` (an earlier ``results.json``, a published one under
``docs/results/``, say) takes every row (pre-training and seed) that finished all its
stages there, where the work dir has not, so only the rest runs. A row is taken whole or
not at all: its later stages need its earlier ones' files.
"""
from __future__ import annotations

import csv
import json
import os
import os.path as osp
import shlex
import sys
import time
from statistics import mean, median

from qbheat_mm.utils.provenance import results_provenance
from qbheat_mm.utils.runs import REPO, RunFailed, run_logged, scalar_records

from .common import abs_path as _abs

TRAIN = osp.join(REPO, 'tools', 'train.py')
KNN = osp.join(REPO, 'tools', 'analysis', 'knn_eval.py')
EXTRACT = osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py')
STAGE_FILE = 'stage.json'
#: Iterations a ``calibrate`` stage times; its logger writes a step time every
#: ``CALIBRATION_LOG_INTERVAL`` of them, and the first such window is left out (warm-up).
CALIBRATION_ITERS = 30
CALIBRATION_LOG_INTERVAL = 5
#: The calibration run: the pre-training's own config, short, without validation or
#: monitoring (their time is not training time).
CALIBRATION_OPTIONS = [f'train_cfg.max_iters={CALIBRATION_ITERS}',
                       f'default_hooks.logger.interval={CALIBRATION_LOG_INTERVAL}',
                       'custom_hooks=[]', 'val_cfg=None', 'val_dataloader=None',
                       'val_evaluator=None']


class StageFailed(RunFailed):
    """A stage of the pipeline exited with an error."""


# ---- the plan -------------------------------------------------------------------------
def check_plan(cfg: dict, path: str) -> dict:
    """The plan of a comparison (see the module's docstring), checked; plain dicts."""
    plan = dict(type='comparison',
                pretrainings=[dict(p) for p in cfg.get('pretrainings', [])],
                evaluations=[dict(e) for e in cfg.get('evaluations', [])],
                launcher=dict(cfg.get('launcher', dict(type='local'))),
                seeds=list(cfg.get('seeds', [0])), title=cfg.get('title', osp.basename(path)),
                reference=cfg.get('reference'))
    if not plan['pretrainings'] or not plan['evaluations']:
        raise ValueError(f'{path} needs non-empty `pretrainings` and `evaluations` lists')
    for kind, entries in (('pretrainings', plan['pretrainings']),
                          ('evaluations', plan['evaluations'])):
        names = [e.get('name') for e in entries]
        if None in names or len(set(names)) != len(names):
            raise ValueError(f'every entry of `{kind}` in {path} needs a unique `name`, '
                             f'got {names}')
    for p in plan['pretrainings']:
        p.setdefault('label', p['name'])
        p['cfg_options'] = list(p.get('cfg_options', []))
        minutes = p.setdefault('minutes', None)
        if minutes is not None and not (isinstance(minutes, (int, float)) and minutes > 0):
            raise ValueError(f"pre-training {p['name']!r}: minutes must be a positive "
                             f'number (the wall-clock budget) or None, got {minutes!r}')
        if minutes is not None and p.get('config') is None:
            raise ValueError(f"pre-training {p['name']!r} has a budget (minutes) but no "
                             'config: the random row has nothing to train')
        if p.get('config') is not None and not osp.isfile(_abs(p['config'])):
            raise FileNotFoundError(f"pre-training {p['name']!r}: config not found: "
                                    f"{p['config']}")
    for e in plan['evaluations']:
        e.setdefault('label', e['name'])
        e.setdefault('kind', 'train')
        e.setdefault('scale', 1.0)
        e['cfg_options'] = list(e.get('cfg_options', []))
        e['random_cfg_options'] = list(e.get('random_cfg_options', []))
        e['optional'] = bool(e.get('optional', False))
        if e['kind'] not in ('train', 'knn'):
            raise ValueError(f"evaluation {e['name']!r}: kind must be 'train' or 'knn', "
                             f"got {e['kind']!r}")
        if 'metric' not in e:
            raise ValueError(f"evaluation {e['name']!r} needs a `metric` (the logged key, "
                             "e.g. 'accuracy/top1' or 'coco/bbox_mAP')")
        if not osp.isfile(_abs(e['config'])):
            raise FileNotFoundError(f"evaluation {e['name']!r}: config not found: "
                                    f"{e['config']}")
    if plan['reference'] is not None and plan['reference'] not in names_of(plan):
        raise ValueError(f"reference {plan['reference']!r} is not a pre-training of "
                         f'{path} ({names_of(plan)})')
    launcher = plan['launcher']
    if launcher.get('type') not in ('local', 'dist', 'slurm'):
        raise ValueError(f"launcher.type must be 'local', 'dist' or 'slurm', got "
                         f"{launcher.get('type')!r}")
    if launcher['type'] == 'slurm' and not launcher.get('partition'):
        raise ValueError('a slurm launcher needs launcher.partition')
    return plan


def names_of(plan: dict) -> list[str]:
    return [p['name'] for p in plan['pretrainings']]


def select_evaluations(plan: dict, wanted: list[str] | None) -> dict:
    """The plan with its optional evaluations kept only where ``wanted`` names them."""
    wanted = list(wanted or [])
    optional = [e['name'] for e in plan['evaluations'] if e['optional']]
    unknown = sorted(set(wanted) - set(optional))
    if unknown:
        raise ValueError(f'--with {unknown}: not an optional evaluation of the plan '
                         f'(optional: {optional or "none"})')
    kept = [e for e in plan['evaluations'] if not e['optional'] or e['name'] in wanted]
    return dict(plan, evaluations=kept)


# ---- commands -------------------------------------------------------------------------
def train_command(launcher: dict, config: str, work_dir: str, options: list[str],
                  job: str) -> tuple[list[str], dict]:
    """(argv, extra environment) of one ``tools/train.py`` run under ``launcher``."""
    opts = ['--cfg-options', *options] if options else []
    kind = launcher['type']
    if kind == 'local':
        return [sys.executable, TRAIN, _abs(config), '--work-dir', work_dir, *opts], {}
    gpus = str(launcher.get('gpus', 8))
    if kind == 'dist':
        return [osp.join(REPO, 'tools', 'dist_train.sh'), _abs(config), gpus,
                '--work-dir', work_dir, *opts], {}
    return ([osp.join(REPO, 'tools', 'slurm_train.sh'), launcher['partition'], job,
             _abs(config), work_dir, *opts], {'GPUS': gpus})


def knn_command(launcher: dict, config: str, work_dir: str, checkpoint: str | None,
                options: list[str], job: str) -> tuple[list[str], dict]:
    """(argv, extra environment) of one ``tools/analysis/knn_eval.py`` run."""
    args = [_abs(config), '--work-dir', work_dir,
            *(['--checkpoint', checkpoint] if checkpoint else ['--random']),
            *(['--cfg-options', *options] if options else [])]
    kind = launcher['type']
    if kind == 'local':
        return [sys.executable, KNN, *args], {}
    gpus = str(launcher.get('gpus', 8))
    if kind == 'dist':
        return [osp.join(REPO, 'tools', 'torchrun.sh'), gpus, KNN, *args], {}
    per_node = str(min(int(gpus), int(launcher.get('gpus_per_node', 8))))
    return (['srun', '-p', launcher['partition'], f'--job-name={job}',
             f'--gres=gpu:{per_node}', f'--ntasks={gpus}', f'--ntasks-per-node={per_node}',
             '--kill-on-bad-exit=1', 'python', '-u', KNN, *args, '--launcher', 'slurm'], {})


def run_stage(cmd: list[str], env: dict, log: str, stage: str) -> float:
    """Run ``cmd`` with its output in ``log``; returns seconds; raises StageFailed."""
    return run_logged(cmd, log, stage, env, error=StageFailed,
                      hint='Fix the cause and rerun the same command: finished stages are '
                      'not run again.')


# ---- reading results ------------------------------------------------------------------
def last_value(work_dir: str, metric: str) -> float | None:
    """The last logged ``metric`` of a run (its final validation), or None."""
    values = [r[metric] for r in scalar_records(work_dir) if metric in r]
    return float(values[-1]) if values else None


#: What a KNNMonitorHook logs at each check, as kept in a pre-training's stage.json.
MONITOR_KEYS = ('knn/top1', 'knn/images_seen', 'knn/train_minutes')


def knn_trajectory(work_dir: str) -> list[list[float]]:
    """``[[iteration, knn/top1, images seen, training minutes], ...]`` logged by a
    KNNMonitorHook, over every run of ``work_dir`` (a resumed pre-training continues its
    curve; its minutes restart at the resumption). An iteration checked again (by a run
    that resumed from there, or a failed attempt's check before iteration 1) keeps its
    latest record."""
    checks = {r.get('step', 0): [r.get('step', 0)] + [r.get(k) for k in MONITOR_KEYS]
              for r in scalar_records(work_dir) if 'knn/top1' in r}
    return [checks[step] for step in sorted(checks)]


def seconds_per_iter(work_dir: str) -> float:
    """Median training step time of a calibration run, its first logged window left out."""
    times = [r['time'] for r in scalar_records(work_dir, latest_only=True)
             if 'time' in r and 'lr' in r]  # training records (validation has no lr)
    if len(times) < 2:
        raise StageFailed(f'the calibration run in {work_dir} logged {len(times)} step '
                          'time(s); it needs at least 2 (is its logger interval '
                          f'{CALIBRATION_LOG_INTERVAL} iterations?)')
    return median(times[1:])


def budget_iters(minutes: float, step_seconds: float) -> int:
    """Iterations that fill ``minutes`` of training at ``step_seconds`` per iteration."""
    return max(1, round(minutes * 60 / step_seconds))


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


# ---- the pipeline ---------------------------------------------------------------------
def run_row(plan: dict, pre: dict, seed: int, work_dir: str, dry_run: bool,
            report_only: bool) -> dict:
    """Every stage of one pre-training and seed; returns the row's records."""
    launcher = plan['launcher']
    row_dir = osp.join(work_dir, f"{pre['name']}_seed{seed}")
    seed_opt = [f'randomness.seed={seed}']
    row = dict(pretraining=pre['name'], label=pre['label'], seed=seed, dir=row_dir,
               stages={})

    def stage(name: str, make_cmd, finish) -> dict | None:
        stage_dir = osp.join(row_dir, name)
        done = read_stage(stage_dir)
        where = f"stage {name!r} of pre-training {pre['name']!r} (seed {seed})"
        if done is None and not report_only:
            cmd, env = make_cmd(stage_dir)
            if dry_run:
                prefix = ' '.join(f'{k}={v}' for k, v in env.items())
                print(f'[{pre["name"]} seed {seed}] {name}: {prefix + " " if prefix else ""}'
                      + ' '.join(shlex.quote(c) for c in cmd))
                return None
            print(f'[{pre["name"]} seed {seed}] {name} ...', flush=True)
            seconds = run_stage(cmd, env, osp.join(stage_dir, 'stage.log'), where)
            done = write_stage(stage_dir, dict(finish(stage_dir), seconds=seconds,
                                               command=cmd))
            print(f'[{pre["name"]} seed {seed}] {name} done in {seconds / 60:.1f} min'
                  + (f": {done['value']:.4g}" if 'value' in done else ''), flush=True)
        if done is not None:
            row['stages'][name] = dict(done, dir=stage_dir)
        return done

    backbone = None
    if pre.get('config') is not None:
        job = f"{pre['name']}_s{seed}"
        budget = []
        if pre['minutes'] is not None:
            calibrate = stage(
                'calibrate',
                lambda d: train_command(launcher, pre['config'], d,
                                        pre['cfg_options'] + seed_opt + CALIBRATION_OPTIONS,
                                        job),
                lambda d: dict(seconds_per_iter=seconds_per_iter(d),
                               iters=budget_iters(pre['minutes'], seconds_per_iter(d))))
            if calibrate is None and not dry_run:
                return row
            iters = calibrate['iters'] if calibrate else '<budget / step time>'
            # Four checkpoints over the run, so a killed pre-training resumes near where
            # it stopped.
            every = max(1, iters // 4) if calibrate else '<iters / 4>'
            budget = [f'train_cfg.max_iters={iters}',
                      f'default_hooks.checkpoint.interval={every}']

        def pretrain_command(d: str) -> tuple[list[str], dict]:
            cmd, env = train_command(launcher, pre['config'], d,
                                     pre['cfg_options'] + seed_opt + budget, job)
            if osp.isfile(osp.join(d, 'last_checkpoint')):  # killed after a checkpoint
                cmd.append('--resume')
            return cmd, env

        pretrain = stage(
            'pretrain', pretrain_command,
            lambda d: dict(checkpoint=last_checkpoint(d), knn_monitor=knn_trajectory(d)))
        if pretrain is None and not dry_run:  # report only: nothing further has run
            return row
        checkpoint = pretrain['checkpoint'] if pretrain else '<last checkpoint of pretrain>'
        extracted = stage(
            'extract',
            lambda d: ([sys.executable, EXTRACT, checkpoint, osp.join(d, 'backbone.pth')],
                       {}),
            lambda d: dict(backbone=osp.join(d, 'backbone.pth')))
        if extracted is None and not dry_run:
            return row
        backbone = osp.join(row_dir, 'extract', 'backbone.pth')
    for ev in plan['evaluations']:
        init = ([f'model.backbone.init_cfg.checkpoint={backbone}'] if backbone
                else ['model.backbone.init_cfg=None', *ev['random_cfg_options']])
        options = ev['cfg_options'] + seed_opt
        job = f"{pre['name']}_{ev['name']}_s{seed}"
        if ev['kind'] == 'knn':
            stage(ev['name'],
                  lambda d, ev=ev, options=options, job=job: knn_command(
                      launcher, ev['config'], d, backbone, options, job),
                  lambda d, ev=ev: dict(metric=ev['metric'], value=_knn_value(d, ev)))
        else:
            stage(ev['name'],
                  lambda d, ev=ev, options=options, init=init, job=job: train_command(
                      launcher, ev['config'], d, init + options, job),
                  lambda d, ev=ev: dict(metric=ev['metric'], value=_train_value(d, ev)))
    return row


def _train_value(stage_dir: str, ev: dict) -> float:
    value = last_value(stage_dir, ev['metric'])
    if value is None:
        raise StageFailed(f"{ev['name']} finished but logged no {ev['metric']!r} in "
                          f'{stage_dir}/*/vis_data/scalars.json: does its config validate '
                          'at the end, with that metric?')
    return value


def _knn_value(stage_dir: str, ev: dict) -> float:
    with open(osp.join(stage_dir, 'knn_results.json')) as f:
        metrics = json.load(f)['metrics']
    if ev['metric'] not in metrics:
        raise StageFailed(f"k-NN evaluation logged {sorted(metrics)}, not {ev['metric']!r}")
    return float(metrics[ev['metric']])


def row_stages(plan: dict, pre: dict) -> list[str]:
    """The stages a finished row of ``pre`` has, in order."""
    stages = []
    if pre.get('config') is not None:
        stages = (['calibrate'] if pre.get('minutes') is not None else []) + [
            'pretrain', 'extract']
    return stages + [ev['name'] for ev in plan['evaluations']]


def finished_rows(plan: dict, results_json: str) -> dict:
    """The rows of an earlier ``results.json`` that finished every stage the plan asks
    of them, by ``(pre-training, seed)``."""
    if not osp.isfile(results_json):
        raise FileNotFoundError(f'--runs-from {results_json}: no such file')
    with open(results_json) as f:
        earlier = json.load(f)
    commit = (earlier.get('provenance') or {}).get('environment', {}).get('git commit',
                                                                          'unknown')
    plans = {p['name']: p for p in plan['pretrainings']}
    return {(r['pretraining'], r['seed']): dict(r, source=f'{results_json} (made at commit '
                                                f'{commit})')
            for r in earlier['runs']
            if r['pretraining'] in plans
            and set(row_stages(plan, plans[r['pretraining']])) <= set(r['stages'])}


# ---- the table ------------------------------------------------------------------------
def summarise(plan: dict, rows: list[dict]) -> list[dict]:
    """One entry per pre-training: per evaluation the values over seeds, mean, spread."""
    table = []
    for pre in plan['pretrainings']:
        runs = [r for r in rows if r['pretraining'] == pre['name']]
        entry = dict(name=pre['name'], label=pre['label'], cells={})
        for ev in plan['evaluations'] + [dict(name='pretrain', scale=1 / 60)]:
            found = [(r['seed'], r['stages'][ev['name']]) for r in runs
                     if ev['name'] in r['stages']]
            key = 'seconds' if ev['name'] == 'pretrain' else 'value'
            values = [s[key] * ev['scale'] for _, s in found]
            entry['cells'][ev['name']] = dict(
                values=values, seeds=[seed for seed, _ in found],
                dirs=[s['dir'] for _, s in found],
                mean=mean(values) if values else None,
                spread=max(values) - min(values) if len(values) > 1 else None)
        monitored = [(r['seed'], r['stages']['pretrain']['knn_monitor']) for r in runs
                     if r['stages'].get('pretrain', {}).get('knn_monitor')]
        entry['taken_from'] = sorted(f"seed {r['seed']}: {r['source']}" for r in runs
                                     if r.get('source'))
        entry['knn_monitor'] = [m for _, m in monitored]
        entry['monitor_seeds'] = [seed for seed, _ in monitored]
        # Images seen and training minutes at the last check (after the last iteration).
        for key, index in (('images_seen', 2), ('train_minutes', 3)):
            values = [m[-1][index] for _, m in monitored
                      if len(m[-1]) > index and m[-1][index] is not None]
            entry[key] = dict(values=values, mean=mean(values) if values else None)
        table.append(entry)
    return table


def differences(plan: dict, table: list[dict]) -> list[dict]:
    """Every row against the plan's ``reference``: mean difference per evaluation and
    whether it exceeds the seed spread of both rows (None when a row has one seed)."""
    by_name = {t['name']: t for t in table}
    reference = by_name.get(plan.get('reference'))
    if reference is None:
        return []
    out = []
    for t in table:
        if t is reference:
            continue
        for ev in plan['evaluations']:
            a, b = reference['cells'][ev['name']], t['cells'][ev['name']]
            if a['mean'] is None or b['mean'] is None:
                continue
            spread = (max(a['spread'], b['spread'])
                      if a['spread'] is not None and b['spread'] is not None else None)
            delta = a['mean'] - b['mean']
            out.append(dict(row=t['name'], label=t['label'], evaluation=ev['name'],
                            eval_label=ev['label'], delta=delta, spread=spread,
                            exceeds=None if spread is None else abs(delta) > spread))
    return out


def _cell(cell: dict, work_dir: str, digits: int) -> str:
    if cell['mean'] is None:
        return 'not run'
    links = [f'[{v:.{digits}f}]({osp.relpath(d, work_dir)})'
             for v, d in zip(cell['values'], cell['dirs'])]
    if len(links) == 1:
        return links[0]
    return f"{cell['mean']:.{digits}f} (spread {cell['spread']:.{digits}f}: {', '.join(links)})"


def markdown(plan: dict, table: list[dict], work_dir: str) -> str:
    evals = plan['evaluations']
    seeds = sorted({s for t in table for c in t['cells'].values() for s in c['seeds']})
    with_images = any(t['images_seen']['mean'] is not None for t in table)
    head = (['pre-training'] + [e['label'] for e in evals] + ['pre-training time (min)']
            + (['training min, checks left out (mean)', 'images seen (mean)']
               if with_images else []))
    lines = [f"# {plan['title']}", '',
             f"Seeds: {', '.join(map(str, seeds)) or 'none finished'}. Each number links "
             'to the run directory whose log it comes from; with several seeds a cell '
             'shows the mean, the spread (max - min) and each seed.', '',
             '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for t in table:
        cells = [_cell(t['cells'][e['name']], work_dir, 1)
                 for e in evals]
        pre = t['cells']['pretrain']
        cells.append('-' if pre['mean'] is None and t['name'] in _random_rows(plan)
                     else _cell(pre, work_dir, 1))
        if with_images:
            minutes, seen = t['train_minutes']['mean'], t['images_seen']['mean']
            cells.append('-' if minutes is None else f'{minutes:.1f}')
            cells.append('-' if seen is None else f'{seen:,.0f}')
        lines.append(f"| {t['label']} | " + ' | '.join(cells) + ' |')
    taken = [f"{t['label']}, {source}" for t in table for source in t.get('taken_from', [])]
    if taken:
        lines += ['', 'Rows made in an earlier session and taken from its results file '
                  '(`--runs-from`; each keeps the commit of the run that made it):', '']
        lines += [f'- {line}' for line in taken]
    diffs = differences(plan, table)
    if diffs:
        reference = next(t['label'] for t in table if t['name'] == plan['reference'])
        lines += ['', f'{reference} minus each other row (difference of the means; '
                  '"yes" where it exceeds the seed spread of both rows, "one seed" where '
                  'a spread is unknown):', '',
                  '| row | ' + ' | '.join(e['label'] for e in evals) + ' |',
                  '|' + '---|' * (len(evals) + 1)]
        for t in table:
            mine = {d['evaluation']: d for d in diffs if d['row'] == t['name']}
            if not mine:
                continue
            cells = []
            for e in evals:
                d = mine.get(e['name'])
                if d is None:
                    cells.append('-')
                    continue
                verdict = ('one seed' if d['exceeds'] is None
                           else 'yes' if d['exceeds'] else 'no')
                cells.append(f"{d['delta']:+.1f} ({verdict})")
            lines.append(f"| {t['label']} | " + ' | '.join(cells) + ' |')
    monitored = [t for t in table if t['knn_monitor']]
    if monitored:
        lines += ['', 'k-NN top-1 of the encoder during pre-training (KNNMonitorHook; '
                  'iteration: top-1 %, first seed; every seed in curves.png):', '']
        for t in monitored:
            points = ', '.join(f'{int(p[0])}: {p[1]:.1f}' for p in t['knn_monitor'][0])
            lines.append(f"- {t['label']}: {points}")
    return '\n'.join(lines) + '\n'


def _random_rows(plan: dict) -> set:
    return {p['name'] for p in plan['pretrainings'] if p.get('config') is None}


def write_csv(plan: dict, table: list[dict], path: str) -> None:
    names = [e['name'] for e in plan['evaluations']] + ['pretrain_minutes']
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['pretraining', 'seeds'] + names + [f'{n}_spread' for n in names])
        for t in table:
            cells = [t['cells'][e['name']] for e in plan['evaluations']]
            cells.append(t['cells']['pretrain'])
            seeds = sorted({s for c in cells for s in c['seeds']})
            fmt = lambda v: '' if v is None else f'{v:.4f}'  # noqa: E731
            writer.writerow([t['name'], ' '.join(map(str, seeds))]
                            + [fmt(c['mean']) for c in cells]
                            + [fmt(c['spread']) for c in cells])


def bar_chart(plan: dict, table: list[dict], path: str) -> None:
    """Grouped bars: one group per evaluation, one bar per pre-training."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    evals = plan['evaluations']
    width = 0.8 / len(table)
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(evals), 4))
    for i, t in enumerate(table):
        means = [t['cells'][e['name']]['mean'] or 0. for e in evals]
        errors = [(t['cells'][e['name']]['spread'] or 0.) / 2 for e in evals]
        xs = [j + (i - (len(table) - 1) / 2) * width for j in range(len(evals))]
        ax.bar(xs, means, width, yerr=errors if any(errors) else None, label=t['label'],
               capsize=2)
    ax.set_xticks(range(len(evals)), [e['label'] for e in evals], fontsize=8)
    ax.set_ylabel('top-1 (%) / AP (%)')
    ax.set_title(plan['title'], fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curves_chart(plan: dict, table: list[dict], path: str) -> bool:
    """k-NN top-1 during pre-training against images seen and against training minutes,
    one colour per pre-training and one line style per seed; False if nothing to draw."""
    curves = [(t, seed, m) for t in table
              for seed, m in zip(t['monitor_seeds'], t['knn_monitor'])
              if all(len(p) > 3 and p[2] is not None for p in m)]
    if not curves:
        return False
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colours = {t['name']: f'C{i}' for i, t in enumerate(table)}
    styles = ['-', '--', ':', '-.']
    seeds = sorted({seed for _, seed, _ in curves})
    for t, seed, m in curves:
        label = f"{t['label']} (seed {seed})"
        style = styles[seeds.index(seed) % len(styles)]
        for ax, index in zip(axes, (2, 3)):
            ax.plot([p[index] for p in m], [p[1] for p in m], style, marker='o',
                    markersize=3, color=colours[t['name']], label=label)
    axes[0].set_xlabel('images seen')
    axes[1].set_xlabel('training minutes (k-NN checks left out)')
    axes[0].set_ylabel('k-NN top-1 (%)')
    axes[1].legend(fontsize=7, loc='best')
    fig.suptitle(plan['title'], fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def report(plan: dict, rows: list[dict], work_dir: str, command: list[str],
           report_only: bool = False) -> list[dict]:
    """Write results.md, results.csv, results.json (with the provenance of ``command``),
    results.png and curves.png to ``work_dir``; returns the table."""
    table = summarise(plan, rows)
    text = markdown(plan, table, work_dir)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(text)
    write_csv(plan, table, osp.join(work_dir, 'results.csv'))
    results = osp.join(work_dir, 'results.json')
    record = results_provenance(results, command, report_only)
    with open(results, 'w') as f:
        json.dump(dict(plan=plan, runs=rows, table=table,
                       differences=differences(plan, table), provenance=record), f,
                  indent=2)
    bar_chart(plan, table, osp.join(work_dir, 'results.png'))
    curves_chart(plan, table, osp.join(work_dir, 'curves.png'))
    print(text)
    return table


def run(plan: dict, work_dir: str, command: list[str], seeds: list[int] | None = None,
        only: list[str] | None = None, with_evaluations: list[str] | None = None,
        dry_run: bool = False, report_only: bool = False,
        runs_from: str | None = None) -> list[dict]:
    """Run every stage of the comparison that has not finished (``only``: of these
    pre-trainings), then tabulate; returns the table (nothing on a dry run)."""
    plan = select_evaluations(plan, with_evaluations)
    seeds = seeds if seeds is not None else plan['seeds']
    plan['seeds'] = seeds
    known = {p['name'] for p in plan['pretrainings']}
    if only and set(only) - known:
        raise ValueError(f'--only {sorted(set(only) - known)}: not in the plan '
                         f'({sorted(known)})')
    work_dir = osp.abspath(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    earlier = finished_rows(plan, runs_from) if runs_from else {}
    rows = []
    start = time.time()
    for pre in plan['pretrainings']:
        skip = only and pre['name'] not in only
        for seed in seeds:
            if (pre['name'], seed) in earlier and not set(row_stages(plan, pre)) <= set(
                    run_row(plan, pre, seed, work_dir, False, True)['stages']):
                print(f"[{pre['name']} seed {seed}] taken from {runs_from}")
                rows.append(earlier[pre['name'], seed])
                continue
            rows.append(run_row(plan, pre, seed, work_dir, dry_run,
                                report_only or bool(skip)))
    if dry_run:
        return []
    if not report_only:
        print(f'pipeline ran for {(time.time() - start) / 60:.1f} min', flush=True)
    return report(plan, rows, work_dir, command, report_only)
