"""The stages of one row and seed, and the run of a whole plan.

For each row (pre-training) and seed, in order: ``calibrate`` (with a budget in minutes:
the step time of ``CALIBRATION_ITERS`` iterations), ``pretrain`` (``tools/train.py
CONFIG``), ``extract`` (its backbone, when an evaluation needs it), then every
evaluation: ``model.backbone.init_cfg.checkpoint`` set to the extracted backbone, or the
random init (``init_cfg=None``) for a row without a config. Every stage runs in its own
process and folder, ``DIR/<row>_seed<S>/<stage>/``, and writes ``stage.json`` when it
succeeds (:mod:`.readers`); a rerun skips finished stages. An unfinished training with a
checkpoint resumes from it (``--resume``); any other unfinished stage starts over in an
emptied folder. A failing stage stops the plan, naming the stage, the row, the seed and
its log.
"""
from __future__ import annotations

import os
import os.path as osp
import shlex
import shutil
import time

from qbheat_mm.utils.collect_env import git_commit

from .launch import StageFailed, run_stage, tool_command, train_command
from .plan import abs_path, config_for, select_evaluations
from .readers import (earlier_rows, knn_trajectory, last_checkpoint, last_value,
                      read_stage, resumable, seconds_per_iter, validations, write_stage)

__all__ = ['CALIBRATION_ITERS', 'budget_iters', 'images_iters', 'row_stages', 'run_row',
           'finished_rows', 'run']

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
#: Checkpoints over a budgeted run, so that a killed pre-training resumes near its end.
CHECKPOINTS_PER_RUN = 4


def budget_iters(minutes: float, step_seconds: float) -> int:
    """Iterations that fill ``minutes`` of training at ``step_seconds`` per iteration."""
    return max(1, round(minutes * 60 / step_seconds))


def images_iters(images: int, config: str, options: list[str], launcher: dict) -> int:
    """Iterations in which a run of ``config`` (with ``options``) under ``launcher`` sees
    ``images`` images: images / (batch per process x processes), rounded."""
    import argparse

    from mmengine.config import Config

    from qbheat_mm.engine.cli import add_cfg_options

    cfg = Config.fromfile(abs_path(config))
    if options:  # parsed as tools/train.py parses --cfg-options
        parser = argparse.ArgumentParser()
        add_cfg_options(parser)
        cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)
    batch = cfg.train_dataloader.batch_size
    processes = 1 if launcher['type'] == 'local' else int(launcher.get('gpus', 8))
    return max(1, round(images / (batch * processes)))


def applies(ev: dict, pre: dict) -> bool:
    """Whether evaluation ``ev`` runs on row ``pre``: a validation on a row that trains, any
    other evaluation on a row whose backbone it has a config for."""
    if ev['kind'] == 'validation':
        return pre.get('config') is not None
    return config_for(ev, pre) is not None


def needs_backbone(plan: dict, pre: dict) -> bool:
    """Whether an evaluation of ``pre`` reads its extracted backbone."""
    return any(ev['kind'] != 'validation' and applies(ev, pre) for ev in plan['evaluations'])


def row_stages(plan: dict, pre: dict) -> list[str]:
    """The stages a finished row of ``pre`` has, in order."""
    stages = []
    if pre.get('config') is not None:
        stages = (['calibrate'] if pre.get('minutes') is not None else []) + ['pretrain']
        if needs_backbone(plan, pre):
            stages.append('extract')
    return stages + [ev['name'] for ev in plan['evaluations'] if applies(ev, pre)]


def _validation_record(stage_dir: str, ev: dict) -> dict:
    found = validations(stage_dir, ev['metric'])
    if not found:
        raise StageFailed(f"{stage_dir} trained but logged no {ev['metric']!r}: does the "
                          'config have a validation loop with that metric '
                          '(ReconstructionMetric for recon/...)?')
    last = found[-1]
    return dict(value=float(last[ev['metric']]), iter=last['iter'],
                metrics={k: float(last[k]) for k in [ev['metric'], *ev['also']] if k in last},
                curve=[[v['iter'], v[ev['metric']]] for v in found])


def _train_value(stage_dir: str, ev: dict) -> float:
    value = last_value(stage_dir, ev['metric'])
    if value is None:
        raise StageFailed(f"{ev['name']} finished but logged no {ev['metric']!r} in "
                          f'{stage_dir}/*/vis_data/scalars.json: does its config validate '
                          'at the end, with that metric?')
    return value


def _knn_value(stage_dir: str, ev: dict) -> float:
    import json
    with open(osp.join(stage_dir, 'knn_results.json')) as f:
        metrics = json.load(f)['metrics']
    if ev['metric'] not in metrics:
        raise StageFailed(f"k-NN evaluation logged {sorted(metrics)}, not {ev['metric']!r}")
    return float(metrics[ev['metric']])


def _features_record(stage_dir: str, ev: dict) -> dict:
    from qbheat_mm.evaluation.probe_protocol import read_probe_results
    results = read_probe_results(osp.join(stage_dir, 'probe_results.json'))
    missing = sorted(set(ev['metrics']) - set(results['metrics']))
    if missing:
        raise StageFailed(f"{stage_dir}/probe_results.json lacks {missing}: was it made "
                          f"with another probe protocol than {ev['config']}?")
    return dict(metrics={m: results['metrics'][m] for m in ev['metrics']},
                evidence=results['evidence'])


def run_row(plan: dict, pre: dict, seed: int, work_dir: str, dry_run: bool,
            report_only: bool) -> dict:
    """Every stage of one pre-training and seed; returns the row's records."""
    launcher = plan['launcher']
    row_dir = osp.join(work_dir, f"{pre['name']}_seed{seed}")
    seed_opt = [f'randomness.seed={seed}']
    row = dict(pretraining=pre['name'], label=pre['label'], seed=seed, dir=row_dir,
               stages={})

    def stage(name: str, make_cmd, finish, training: bool = False) -> dict | None:
        stage_dir = osp.join(row_dir, name)
        done = read_stage(stage_dir)
        where = f"stage {name!r} of pre-training {pre['name']!r} (seed {seed})"
        if done is None and not report_only:
            resume = training and resumable(stage_dir)
            cmd, env = make_cmd(stage_dir) if make_cmd else (None, {})
            if cmd and resume:
                cmd = cmd + ['--resume']
            if dry_run:
                if cmd:
                    prefix = ' '.join(f'{k}={v}' for k, v in env.items())
                    print(f'[{pre["name"]} seed {seed}] {name}: '
                          f'{prefix + " " if prefix else ""}'
                          + ' '.join(shlex.quote(c) for c in cmd))
                return None
            seconds = 0.
            if cmd:
                if osp.isdir(stage_dir) and not resume:  # a killed attempt: start over
                    shutil.rmtree(stage_dir)
                print(f'[{pre["name"]} seed {seed}] {name} ...', flush=True)
                seconds = run_stage(cmd, env, osp.join(stage_dir, 'stage.log'), where)
            done = write_stage(stage_dir, dict(finish(stage_dir), seconds=seconds,
                                               command=cmd, commit=git_commit()))
            print(f'[{pre["name"]} seed {seed}] {name} done in {seconds / 60:.1f} min'
                  + (f": {done['value']:.4g}" if 'value' in done else ''), flush=True)
        if done is not None:
            row['stages'][name] = dict(done, dir=stage_dir)
        return done

    backbone = None
    pretrain_dir = osp.join(row_dir, 'pretrain')
    if pre.get('config') is not None:
        job = f"{pre['name']}_s{seed}"
        budget = []
        if pre['minutes'] is not None:
            calibrate = stage(
                'calibrate',
                lambda d: train_command(launcher, pre['config'], d,
                                        pre['cfg_options'] + seed_opt + CALIBRATION_OPTIONS,
                                        job),
                lambda d: dict(seconds_per_iter=seconds_per_iter(d, CALIBRATION_LOG_INTERVAL),
                               iters=budget_iters(pre['minutes'], seconds_per_iter(
                                   d, CALIBRATION_LOG_INTERVAL))))
            if calibrate is None and not dry_run:
                return row
            iters = calibrate['iters'] if calibrate else '<budget / step time>'
            every = (max(1, iters // CHECKPOINTS_PER_RUN) if calibrate
                     else f'<iters / {CHECKPOINTS_PER_RUN}>')
            budget = [f'train_cfg.max_iters={iters}',
                      f'default_hooks.checkpoint.interval={every}']
        elif pre['images'] is not None:
            iters = images_iters(pre['images'], pre['config'], pre['cfg_options'], launcher)
            budget = [f'train_cfg.max_iters={iters}',
                      f'default_hooks.checkpoint.interval='
                      f'{max(1, iters // CHECKPOINTS_PER_RUN)}']
        pretrain = stage(
            'pretrain',
            lambda d: train_command(launcher, pre['config'], d,
                                    pre['cfg_options'] + seed_opt + budget, job),
            lambda d: dict(checkpoint=last_checkpoint(d), knn_monitor=knn_trajectory(d),
                           budget=budget),
            training=True)
        if pretrain is None and not dry_run:  # report only: nothing further has run
            return row
        if needs_backbone(plan, pre):
            checkpoint = (pretrain['checkpoint'] if pretrain
                          else '<last checkpoint of pretrain>')
            extracted = stage(
                'extract',
                lambda d: tool_command(launcher, 'extract',
                                       [checkpoint, osp.join(d, 'backbone.pth')], job,
                                       distributed=False),
                lambda d: dict(backbone=osp.join(d, 'backbone.pth')))
            if extracted is None and not dry_run:
                return row
            backbone = osp.join(row_dir, 'extract', 'backbone.pth')
    for ev in [e for e in plan['evaluations'] if applies(e, pre)]:
        config = config_for(ev, pre)
        options = ev['cfg_options'] + seed_opt
        job = f"{pre['name']}_{ev['name']}_s{seed}"
        if ev['kind'] == 'validation':
            stage(ev['name'], None, lambda d, ev=ev: _validation_record(pretrain_dir, ev))
        elif ev['kind'] == 'knn':
            args = [abs_path(config), '--work-dir', '{dir}',
                    *(['--checkpoint', backbone] if backbone else ['--random']),
                    *(['--cfg-options', *options] if options else [])]
            stage(ev['name'],
                  lambda d, args=args, job=job: tool_command(
                      launcher, 'knn', [a.replace('{dir}', d) for a in args], job),
                  lambda d, ev=ev: dict(metric=ev['metric'], value=_knn_value(d, ev)))
        elif ev['kind'] == 'features':
            args = [abs_path(config), '--work-dir', '{dir}', '--seed', str(seed),
                    *(['--checkpoint', backbone] if backbone else ['--random']),
                    *(['--cfg-options', *ev['cfg_options']] if ev['cfg_options'] else [])]
            stage(ev['name'],
                  lambda d, args=args, job=job: tool_command(
                      launcher, 'features', [a.replace('{dir}', d) for a in args], job,
                      distributed=False),
                  lambda d, ev=ev: _features_record(d, ev))
        else:
            init = ([f'model.backbone.init_cfg.checkpoint={backbone}'] if backbone
                    else ['model.backbone.init_cfg=None', *ev['random_cfg_options']])
            stage(ev['name'],
                  lambda d, config=config, options=options, init=init, job=job:
                  train_command(launcher, config, d, init + options, job),
                  lambda d, ev=ev: dict(metric=ev['metric'], value=_train_value(d, ev)),
                  training=True)
    return row


def finished_rows(plan: dict, results_json: str) -> dict:
    """The rows of an earlier ``results.json`` that finished every stage the plan asks
    of them, by ``(pre-training, seed)``."""
    rows, commit = earlier_rows(results_json)
    plans = {p['name']: p for p in plan['pretrainings']}
    return {(r['pretraining'], r['seed']): dict(r, source=f'{results_json} (made at commit '
                                                f"{r.get('commit', commit)})")
            for r in rows
            if r['pretraining'] in plans
            and set(row_stages(plan, plans[r['pretraining']])) <= set(r['stages'])}


def run(plan: dict, work_dir: str, command: list[str], seeds: list[int] | None = None,
        only: list[str] | None = None, with_evaluations: list[str] | None = None,
        dry_run: bool = False, report_only: bool = False,
        runs_from: str | None = None) -> list[dict]:
    """Run every stage of the plan that has not finished (``only``: of these rows), then
    tabulate; returns the table (nothing on a dry run)."""
    from .table import report

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
            row = run_row(plan, pre, seed, work_dir, dry_run, report_only or bool(skip))
            if not dry_run and report_only and not row['stages']:
                print(f"[{pre['name']} seed {seed}] not started in {row['dir']}, left out "
                      'of the table')
            rows.append(row)
    if dry_run:
        return []
    if not report_only:
        print(f'plan ran for {(time.time() - start) / 60:.1f} min', flush=True)
    return report(plan, rows, work_dir, command, report_only)
