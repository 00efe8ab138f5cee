"""Run an experiment plan: resumable, with a dry run, its results table and plots.

    python tools/run_experiment.py PLAN --work-dir DIR [--seeds 0 1] [--dry-run]
        [--report-only] [--runs-from RESULTS_JSON] [--plan-options k=v ...]
        [--only NAME ...] [--with NAME ...]                      (comparisons)

PLAN is a plan file under ``configs/experiments/`` (its README lists them). A
``comparison`` pre-trains, extracts and evaluates every pre-training of the plan over
seeds (``--only`` some pre-trainings, ``--with`` optional evaluations such as DETR); an
``ablation`` trains a grid of QB-Heat variants (learned or frozen operator, decoder
scope, neck mode) over seeds. Finished stages are never run again, an interrupted one
resumes, ``--runs-from`` takes the finished runs of an earlier (published) results.json,
``--dry-run`` prints every command, ``--report-only`` tabulates what has finished. Written
to DIR: ``results.json`` (with the command, commit and machine), ``results.md`` and plots;
``tools/analysis/publish_results.py`` copies them to ``docs/results/``. Details of each
kind: ``qbheat_mm/experiments/comparison.py`` and ``ablation.py``.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from qbheat_mm.experiments import load_plan, run_plan
from qbheat_mm.experiments.comparison import StageFailed
from qbheat_mm.utils.runs import RunFailed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('plan', help='plan file (configs/experiments/*.py)')
    parser.add_argument('--work-dir', required=True, help='folder for every run and table')
    parser.add_argument('--seeds', nargs='+', type=int, help="default: the plan's `seeds`")
    parser.add_argument('--plan-options', nargs='+', action=DictAction,
                        help='override plan entries, e.g. launcher.gpus=4 or '
                        "modes=\"['block','recursive']\"")
    parser.add_argument('--dry-run', action='store_true', help='print the commands only')
    parser.add_argument('--report-only', action='store_true',
                        help='tabulate the finished runs; run nothing')
    parser.add_argument('--runs-from', metavar='RESULTS_JSON',
                        help='an earlier results.json: its finished runs are taken where '
                        'the work dir has not finished them (a study spanning sessions)')
    comparison = parser.add_argument_group('comparisons')
    comparison.add_argument('--only', nargs='+', metavar='NAME',
                            help='run only these pre-trainings (the table keeps every row)')
    comparison.add_argument('--with', nargs='+', dest='with_evaluations', metavar='NAME',
                            help="also run these optional evaluations (the plan's "
                            '`optional=True` ones, e.g. detr)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    plan = load_plan(args.plan, args.plan_options)
    kwargs = dict(seeds=args.seeds, dry_run=args.dry_run, report_only=args.report_only,
                  runs_from=args.runs_from)
    if plan['type'] == 'comparison':
        kwargs.update(only=args.only, with_evaluations=args.with_evaluations)
    elif args.only or args.with_evaluations:
        raise ValueError(f"--only and --with choose a comparison's rows and evaluations; "
                         f"{args.plan} is an {plan['type']}")
    command = [osp.join('tools', 'run_experiment.py')] + argv
    return run_plan(plan, args.work_dir, command, **kwargs)


if __name__ == '__main__':
    try:
        main()
    except (StageFailed, RunFailed, FileNotFoundError, ValueError) as e:
        print(f'run_experiment: {e}', file=sys.stderr)
        sys.exit(1)
