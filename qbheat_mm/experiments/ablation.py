"""An ablation of the heat operator: train a grid of QB-Heat variants and tabulate.

    python tools/run_experiment.py PLAN --work-dir DIR [--seeds 0 1] [--dry-run]
        [--report-only] [--runs-from RESULTS_JSON] [--plan-options k=v ...]

PLAN is a plan file of ``type = 'ablation'`` (``configs/experiments/heat_operator_*.py``,
``configs/experiments/heat_control.py``) with ``config`` (a QB-Heat config with a
validation loop and ``ReconstructionMetric``), the grid ``scopes``, ``operators``,
``modes``, ``seeds``, and ``cfg_options`` for every run. Every variant is one ordinary
``tools/train.py`` run of the config, with only these overrides:

- ``model.decoder.scope``: ``quarter`` (the default decoder: masked cells see the visible
  quarter only through A and B) or ``global`` (the ablation decoder that attends across
  quarters);
- ``model.neck.freeze_operator``: ``learned`` A and B, or ``frozen`` at their zero init
  (the neck then only copies the visible features: the control);
- ``model.neck.mode``: ``block``, ``recursive`` or ``finola``;
- ``randomness.seed``.

The last validation of each run is read from its ``vis_data/scalars.json``. Written to
DIR: ``results.json`` (every run, with its validation curve), ``results.md`` (the table:
honest masked PSNR per seed, mean, spread, the trivial baselines, the gain over them, and
learned minus frozen for each decoder and mode, next to the seed spread; on the
known-answer control also the data's exact answer and a frozen operator's ceiling),
``curves.png`` (masked PSNR at every validation, every run) and one work dir per run.

A run is finished once its training process has exited cleanly (``seconds.txt``, its wall
time, is written then) and it logged a validation; a finished run is not trained again. A
run that was interrupted resumes from its ``last_checkpoint``, or starts over when it has
none, so an interrupted ablation picks up where it stopped; ``--report-only`` tabulates
what has finished and lists the rest. ``--runs-from RESULTS_JSON`` takes the runs recorded
in an earlier ``results.json`` (a published one under ``docs/results/``, say) as finished,
so an ablation can be completed in a later session, on a machine that no longer has the
earlier run directories; every run keeps the commit it was trained at.
"""
from __future__ import annotations

import itertools
import json
import os
import os.path as osp
import shutil
import sys
from statistics import mean

from qbheat_mm.utils.provenance import provenance, results_provenance
from qbheat_mm.utils.runs import REPO, run_logged, scalar_records

from .common import abs_path

METRIC = 'recon/psnr_masked'
KEPT = (METRIC, 'recon/psnr_masked_copy', 'recon/psnr_masked_flat', 'recon/psnr_masked_gain')
#: Logged on the known-answer control only (ReconstructionMetric's control_waves): the
#: data's exact answer and the ceiling of a frozen operator.
REFERENCES = ('recon/psnr_masked_known', 'recon/psnr_masked_shared')
SCOPES = ('quarter', 'global')
OPERATORS = ('learned', 'frozen')
MODES = ('block', 'recursive', 'finola')


def check_plan(cfg: dict, path: str) -> dict:
    """The plan of an ablation (see the module's docstring), checked; plain values."""
    plan = dict(type='ablation', config=cfg.get('config'),
                scopes=list(cfg.get('scopes', ['quarter'])),
                operators=list(cfg.get('operators', list(OPERATORS))),
                modes=list(cfg.get('modes', ['block'])), seeds=list(cfg.get('seeds', [0])),
                cfg_options=list(cfg.get('cfg_options', [])),
                title=cfg.get('title', osp.basename(path)))
    if not plan['config']:
        raise ValueError(f'{path} needs a `config`: the QB-Heat config every run trains')
    if not osp.isfile(abs_path(plan['config'])):
        raise FileNotFoundError(f"{path}: config not found: {plan['config']}")
    for key, allowed in (('scopes', SCOPES), ('operators', OPERATORS), ('modes', MODES)):
        unknown = sorted(set(plan[key]) - set(allowed))
        if not plan[key] or unknown:
            raise ValueError(f'{path}: `{key}` must be a non-empty list of {allowed}, got '
                             f'{plan[key]}')
    return plan


def run_name(scope: str, operator: str, mode: str, seed: int) -> str:
    return f'{scope}_{operator}_{mode}_seed{seed}'


def overrides(scope: str, operator: str, mode: str, seed: int) -> list[str]:
    """The ``--cfg-options`` of one variant."""
    return [f'model.decoder.scope={scope}',
            f'model.neck.freeze_operator={operator == "frozen"}',
            f'model.neck.mode={mode}', f'randomness.seed={seed}']


def validations(work_dir: str) -> list[dict]:
    """Every scalars record of a run that holds ``recon/psnr_masked``, in order.

    Each ``iter`` is set to the training iteration it followed (MMEngine logs validation
    metrics of iteration-based runs with ``step`` = epoch). A resumed run logs again from
    its checkpoint's iteration: the later record of an iteration replaces the earlier one.
    """
    found, it = {}, 0
    for record in scalar_records(work_dir):
        if METRIC in record:
            found[it] = dict(record, iter=it)
        else:
            it = record.get('iter', it)
    return [found[i] for i in sorted(found)]


def last_validation(work_dir: str) -> dict | None:
    """The last validation record of a run (see :func:`validations`), or None."""
    found = validations(work_dir)
    return found[-1] if found else None


def finished(run_dir: str) -> bool:
    """Whether a run's training exited cleanly (``seconds.txt``) after a validation."""
    return (osp.isfile(osp.join(run_dir, 'seconds.txt'))
            and last_validation(run_dir) is not None)


def train(config: str, work_dir: str, options: list[str], resume: bool = False) -> float:
    """One ``tools/train.py`` run in a fresh process (``resume``: from the run's
    ``last_checkpoint``); returns its wall time in seconds."""
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), abs_path(config), '--work-dir',
           work_dir, *(['--resume'] if resume else []), '--cfg-options', *options]
    return run_logged(cmd, osp.join(work_dir, 'train.out'), f'training of {work_dir}',
                      hint='Fix the cause and rerun: finished runs are not trained again.')


def summarise(runs: list[dict]) -> list[dict]:
    """Group the runs by (scope, operator, mode): per-seed PSNRs, mean and spread."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r['scope'], r['operator'], r['mode']), []).append(r)
    rows = []
    for (scope, operator, mode), rs in groups.items():
        values = [r[METRIC] for r in rs]
        rows.append(dict(scope=scope, operator=operator, mode=mode,
                         seeds=[r['seed'] for r in rs], psnr=values, mean=mean(values),
                         spread=max(values) - min(values),
                         copy=rs[0]['recon/psnr_masked_copy'],
                         flat=rs[0]['recon/psnr_masked_flat'],
                         gain=mean(r['recon/psnr_masked_gain'] for r in rs),
                         minutes=sum(r['seconds'] for r in rs) / 60,
                         commits=sorted({r.get('commit', 'unknown') for r in rs}),
                         **{k.split('_')[-1]: rs[0][k] for k in REFERENCES if k in rs[0]}))
    return rows


def operator_effect(rows: list[dict]) -> list[dict]:
    """Learned minus frozen mean PSNR for every (scope, mode) that has both."""
    by_key = {(r['scope'], r['operator'], r['mode']): r for r in rows}
    effects = []
    for (scope, operator, mode), learned in by_key.items():
        frozen = by_key.get((scope, 'frozen', mode))
        if operator == 'learned' and frozen is not None:
            effects.append(dict(scope=scope, mode=mode,
                                delta=learned['mean'] - frozen['mean'],
                                spread=max(learned['spread'], frozen['spread']),
                                seeds=min(len(learned['psnr']), len(frozen['psnr']))))
    return effects


def markdown(config: str, rows: list[dict], effects: list[dict]) -> str:
    lines = [f'# Heat-operator ablation: `{config}`', '',
             'Honest masked PSNR (dB): reconstructions from the visible quarter only. '
             '`copy` / `flat`: the trivial predictors (visible quarter copied; its mean '
             'colour); gain: over the better of them.', '']
    references = rows and all('known' in r for r in rows)
    if references:
        lines += ['On this known-answer control the data also has its exact answer, '
                  f"`known` ({rows[0]['known']:.2f} dB, a fixed linear map of the visible "
                  'quarter, 8-bit rounding its only error), and the best prediction shared '
                  f"by the three masked quarters, `shared` ({rows[0]['shared']:.2f} dB): the "
                  'ceiling of a frozen operator, which gives the three quarters the same '
                  'features.', '']
    lines += ['| decoder | A, B | mode | PSNR per seed | mean | spread | copy | flat | gain '
              '| minutes |', '|---|---|---|---|---|---|---|---|---|---|']

    def spread(value: float, seeds: int) -> str:
        return f'{value:.2f}' if seeds > 1 else '-'  # one seed measures no spread

    for r in rows:
        per_seed = ', '.join(f'{v:.2f}' for v in r['psnr'])
        lines.append(f"| {r['scope']} | {r['operator']} | {r['mode']} | {per_seed} | "
                     f"{r['mean']:.2f} | {spread(r['spread'], len(r['psnr']))} | "
                     f"{r['copy']:.2f} | "
                     f"{r['flat']:.2f} | {r['gain']:+.2f} | {r['minutes']:.1f} |")
    commits = sorted({c for r in rows for c in r.get('commits', [])})
    if commits:
        lines += ['', 'Runs trained at commit ' + ', '.join(f'`{c}`' for c in commits)
                  + (' (a run keeps the commit it was trained at; the table may join runs '
                     'of several sessions, see `--runs-from`).' if len(commits) > 1 else '.')]
    if effects:
        lines += ['', '| decoder | mode | learned - frozen (dB) | seed spread | seeds | '
                  'exceeds the spread |', '|---|---|---|---|---|---|']
        for e in effects:
            verdict = ('-' if e['seeds'] < 2
                       else 'yes' if abs(e['delta']) > e['spread'] else 'no')
            lines.append(f"| {e['scope']} | {e['mode']} | {e['delta']:+.2f} | "
                         f"{spread(e['spread'], e['seeds'])} | {e['seeds']} | {verdict} |")
    return '\n'.join(lines) + '\n'


def curves_chart(config: str, runs: list[dict], path: str) -> None:
    """Masked PSNR at every validation against the iteration, one line per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    variants = sorted({(r['scope'], r['operator'], r['mode']) for r in runs})
    seeds = sorted({r['seed'] for r in runs})
    for r in runs:
        variant = (r['scope'], r['operator'], r['mode'])
        colour = f'C{variants.index(variant)}'
        style = ['-', '--', ':', '-.'][seeds.index(r['seed']) % 4]
        ax.plot(*zip(*r['curve']), style, marker='o', markersize=3, color=colour,
                label=f"{' / '.join(variant)}, seed {r['seed']}")
    baselines = max(max(r['recon/psnr_masked_copy'], r['recon/psnr_masked_flat'])
                    for r in runs)
    ax.axhline(baselines, color='grey', lw=0.8, ls=':', label='better trivial predictor')
    ax.set_xlabel('iteration')
    ax.set_ylabel('masked PSNR (dB), validation')
    ax.set_title(osp.basename(config), fontsize=8)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(plan: dict, work_dir: str, command: list[str], seeds: list[int] | None = None,
        dry_run: bool = False, report_only: bool = False,
        runs_from: str | None = None) -> list[dict]:
    """Train every variant of the grid that has not finished, then tabulate; returns the
    runs (nothing trained on a dry run)."""
    seeds = seeds if seeds is not None else plan['seeds']
    config = plan['config']
    os.makedirs(work_dir, exist_ok=True)
    earlier = {}
    if runs_from:
        if not osp.isfile(runs_from):
            raise FileNotFoundError(f'--runs-from {runs_from}: no such file')
        with open(runs_from) as f:
            earlier = {r['name']: dict(r, source=runs_from) for r in json.load(f)['runs']}
    runs = []
    grid = itertools.product(plan['scopes'], plan['operators'], plan['modes'], seeds)
    for scope, operator, mode, seed in grid:
        name = run_name(scope, operator, mode, seed)
        run_dir = osp.join(work_dir, name)
        options = overrides(scope, operator, mode, seed) + list(plan['cfg_options'])
        if dry_run:
            print(f'{name}: tools/train.py {config} --cfg-options {" ".join(options)}')
            continue
        done = finished(run_dir)
        if not done and name in earlier:
            run = earlier[name]
            print(f'{name}: {METRIC} = {run[METRIC]:.2f} dB, taken from {runs_from} '
                  f"(trained at commit {run.get('commit', 'unknown')})", flush=True)
            runs.append(run)
            continue
        if not done and report_only:
            state = ('unfinished' if osp.isdir(run_dir) else 'not started')
            print(f'{name}: {state} in {run_dir}, left out of the table')
            continue
        if not done:
            resume = osp.isfile(osp.join(run_dir, 'last_checkpoint'))
            if osp.isdir(run_dir) and not resume:
                shutil.rmtree(run_dir)  # interrupted before its first checkpoint
            os.makedirs(run_dir, exist_ok=True)
            if not resume:
                with open(osp.join(run_dir, 'provenance.json'), 'w') as f:
                    json.dump(provenance(), f, indent=2)
            seconds = train(config, run_dir, options, resume)
            with open(osp.join(run_dir, 'seconds.txt'), 'w') as f:
                f.write(f'{seconds:.1f}\n')
            if last_validation(run_dir) is None:
                raise RuntimeError(f'{name} trained but logged no {METRIC}: does the config '
                                   'have a validation loop with ReconstructionMetric?')
        record = last_validation(run_dir)
        seconds = float(open(osp.join(run_dir, 'seconds.txt')).read())
        made = osp.join(run_dir, 'provenance.json')
        commit = (json.load(open(made))['environment'].get('git commit', 'unknown')
                  if osp.isfile(made) else 'unknown')
        run = dict(name=name, scope=scope, operator=operator, mode=mode, seed=seed,
                   iter=record['iter'], seconds=seconds, commit=commit,
                   **{k: record[k] for k in KEPT + REFERENCES if k in record},
                   curve=[[v['iter'], v[METRIC]] for v in validations(run_dir)])
        print(f'{name}: {METRIC} = {run[METRIC]:.2f} dB at iteration {run["iter"]} '
              f'(gain {run["recon/psnr_masked_gain"]:+.2f} dB, {seconds / 60:.1f} min)',
              flush=True)
        runs.append(run)
    if dry_run:
        return runs
    if not runs:
        print(f'no finished run in {work_dir}: nothing to tabulate')
        return runs
    rows = summarise(runs)
    effects = operator_effect(rows)
    results = osp.join(work_dir, 'results.json')
    record = results_provenance(results, command, report_only)
    with open(results, 'w') as f:
        json.dump(dict(config=config, runs=runs, rows=rows, effects=effects,
                       provenance=record), f, indent=2)
    table = markdown(config, rows, effects)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(table)
    curves_chart(config, runs, osp.join(work_dir, 'curves.png'))
    print(table)
    return runs
