"""Run an experiment plan: resumable, with a dry run, its results table and plots.

    python tools/run_experiment.py PLAN --work-dir DIR [--seeds 0 1] [--dry-run]
        [--report-only] [--runs-from RESULTS_JSON] [--plan-options k=v ...]
        [--only NAME ...] [--with NAME ...]

PLAN is a plan file under ``configs/experiments/`` (its README lists them): rows (each a
pre-training, or the random init) and the evaluations every row gets, over seeds
(``--only`` some rows, ``--with`` optional evaluations such as DETR). An ablation is the
same with grid variants of one QB-Heat config as rows, scored by their own validation.
Finished stages are never run again, an interrupted one resumes, ``--runs-from`` takes the
finished rows of an earlier (published) results.json, ``--dry-run`` prints every command,
``--report-only`` tabulates what has finished. Written to DIR: ``results.json`` (with the
command, commit and machine), ``results.md``, ``results.csv`` and plots;
``tools/analysis/publish_results.py`` copies them to ``docs/results/``. The plan format:
``qbheat_mm/experiments/plan.py``.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from qbheat_mm.experiments import StageFailed, load_plan, run_plan
from qbheat_mm.engine.cli import add_cfg_options
from qbheat_mm.utils.runs import RunFailed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('plan', help='plan file (configs/experiments/*.py)')
    parser.add_argument('--work-dir', required=True, help='folder for every run and table')
    parser.add_argument('--seeds', nargs='+', type=int, help="default: the plan's `seeds`")
    add_cfg_options(parser, '--plan-options',
                    example="launcher.gpus=4 or modes=\"['block','recursive']\"")
    parser.add_argument('--dry-run', action='store_true', help='print the commands only')
    parser.add_argument('--report-only', action='store_true',
                        help='tabulate the finished runs; run nothing')
    parser.add_argument('--runs-from', metavar='RESULTS_JSON',
                        help='an earlier results.json: its finished runs are taken where '
                        'the work dir has not finished them (a study spanning sessions)')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help='run only these rows (the table keeps every row)')
    parser.add_argument('--with', nargs='+', dest='with_evaluations', metavar='NAME',
                        help="also run these optional evaluations (the plan's "
                        '`optional=True` ones, e.g. detr)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    plan = load_plan(args.plan, args.plan_options)
    kwargs = dict(seeds=args.seeds, dry_run=args.dry_run, report_only=args.report_only,
                  runs_from=args.runs_from, only=args.only,
                  with_evaluations=args.with_evaluations)
    command = [osp.join('tools', 'run_experiment.py')] + argv
    return run_plan(plan, args.work_dir, command, **kwargs)


if __name__ == '__main__':
    try:
        main()
    except (StageFailed, RunFailed, FileNotFoundError, ValueError) as e:
        print(f'run_experiment: {e}', file=sys.stderr)
        sys.exit(1)
