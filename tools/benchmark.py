"""Benchmark QB-Heat: one entry point, one task per question.

    python tools/benchmark.py --task step [--peers qbheat mocov2 ...] [--img-size 256]
                              [--batch-size 8] [--rounds 5] [--optimizer plain|foreach|fused]
                              [--channels-last] [--compile] [--amp bf16]
    python tools/benchmark.py --task step --img-size 128 256 384 --batch-size 8 16   (grid)
    python tools/benchmark.py --task parts [CONFIG] [--img-size 256] [--batch-size 8]
    python tools/benchmark.py --task options [CONFIG] [--compile] [--amp bf16]
    python tools/benchmark.py --task dataloader CONFIG [--batches 20] [--num-workers N]
                              [--step-results work_dirs/benchmark/step/results.json]
    python tools/benchmark.py --task gpu [--batch-size 256]

``step``: one training step (forward, backward, AdamW) of QB-Heat and its peers, built
from their own configs, timed in interleaved rounds in this one process, with QB-Heat's
encoder floor and the parts of its step. ``parts``: the parts of one QB-Heat step of a
config. ``options``: every speed option against the plain step, its loss checked.
``dataloader``: whether a config's training loader keeps up with the step. ``gpu``: the
GPU table (``step`` and ``options`` at batch 256, bf16, on one CUDA device).

Every task prints its table and writes ``results.json`` (with the command, commit,
machine and versions) and ``results.md`` to ``--work-dir`` (default
``work_dirs/benchmark/TASK``); ``tools/analysis/publish_results.py`` publishes them.
"""
from __future__ import annotations

import argparse

import torch

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.benchmark import AMP_DTYPES, OPTIMIZER_IMPLS, PEERS, TASKS
from qbheat_mm.benchmark.tasks import DEFAULT_CONFIG
from qbheat_mm.engine.cli import add_cfg_options
from qbheat_mm.utils.results import write_results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--task', choices=sorted(TASKS), required=True)
    parser.add_argument('config', nargs='?', default=None,
                        help=f'the QB-Heat config of parts / options (default {DEFAULT_CONFIG})'
                        '; the config whose loader the dataloader task times (required)')
    parser.add_argument('--img-size', type=int, nargs='+', default=None,
                        help='square image size (step: several make a grid; default 256)')
    parser.add_argument('--batch-size', type=int, nargs='+', default=None,
                        help='images per step (step: several make a grid; default 8, gpu '
                        '256; dataloader: the config\'s unless given)')
    parser.add_argument('--rounds', type=int, default=5, help='interleaved timed rounds')
    parser.add_argument('--warmup', type=int, default=1, help='untimed calls of each first')
    parser.add_argument('--device', default=None,
                        help='default cuda when available (gpu: always cuda), else cpu')
    parser.add_argument('--work-dir', help='where results.json and results.md go '
                        '(default work_dirs/benchmark/TASK)')
    add_cfg_options(parser, example='model.decoder.depth=2')
    step = parser.add_argument_group('step, options and gpu')
    step.add_argument('--peers', nargs='+', choices=sorted(PEERS), default=list(PEERS))
    step.add_argument('--optimizer', choices=OPTIMIZER_IMPLS, default='plain',
                      help='AdamW implementation of every step')
    step.add_argument('--channels-last', action='store_true')
    step.add_argument('--compile', action='store_true',
                      help='torch.compile the loss (compiling takes minutes on a CPU)')
    step.add_argument('--amp', choices=sorted(AMP_DTYPES),
                      help='autocast dtype (changes the arithmetic: say so)')
    loader = parser.add_argument_group('dataloader')
    loader.add_argument('--batches', type=int, default=20, help='timed batches')
    loader.add_argument('--num-workers', type=int, help='override the config\'s workers')
    rate = loader.add_mutually_exclusive_group()
    rate.add_argument('--step-images-per-s', type=float,
                      help='the training step rate to compare with')
    rate.add_argument('--step-results', help='the results.json of a `--task step` run: its '
                      'QB-Heat images/s is the step rate')
    return parser.parse_args(argv)


def _one(values: list[int] | None, default: int | None, flag: str, task: str) -> int | None:
    if values is None:
        return default
    if len(values) > 1:
        raise SystemExit(f'--task {task} takes one {flag}, got {values} (only --task step '
                         'makes a grid)')
    return values[0]


def build_task(args: argparse.Namespace):
    """The task the command line asks for, with its options."""
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    common = dict(device=device, rounds=args.rounds, warmup=args.warmup)
    config = args.config or DEFAULT_CONFIG
    if args.task == 'step':
        return TASKS['step'](peers=args.peers, img_sizes=args.img_size or [256],
                             batch_sizes=args.batch_size or [8], optimizer_impl=args.optimizer,
                             channels_last=args.channels_last, compile=args.compile,
                             amp=args.amp, **common)
    img_size = _one(args.img_size, 256, '--img-size', args.task)
    if args.task == 'parts':
        return TASKS['parts'](config, args.cfg_options, img_size=img_size,
                              batch_size=_one(args.batch_size, 8, '--batch-size', 'parts'),
                              **common)
    if args.task == 'options':
        return TASKS['options'](config, args.cfg_options, img_size=img_size,
                                batch_size=_one(args.batch_size, 8, '--batch-size', 'options'),
                                compile=args.compile, amp=args.amp, **common)
    if args.task == 'dataloader':
        if args.config is None:
            raise SystemExit('--task dataloader needs the CONFIG whose train_dataloader it '
                             'times')
        return TASKS['dataloader'](
            args.config, args.cfg_options, batches=args.batches, num_workers=args.num_workers,
            batch_size=_one(args.batch_size, None, '--batch-size', 'dataloader'),
            step_images_per_s=args.step_images_per_s, step_results=args.step_results,
            **common)
    return TASKS['gpu'](batch_size=_one(args.batch_size, 256, '--batch-size', 'gpu'),
                        img_size=img_size, config=config, peers=args.peers,
                        **dict(common, device=args.device or 'cuda'))


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    try:
        task = build_task(args)
        result = task.run()
    except (RuntimeError, ValueError) as exc:
        raise SystemExit(f'tools/benchmark.py --task {args.task}: {exc}') from exc
    table = task.markdown(result)
    print(table)
    work_dir = args.work_dir or f'work_dirs/benchmark/{args.task}'
    command = ['tools/benchmark.py'] + list(argv) if argv is not None else None
    write_results(work_dir, result, table, task.title, command)
    print(f'\nwritten: {work_dir}/results.json, {work_dir}/results.md')
    return result


if __name__ == '__main__':
    main()
