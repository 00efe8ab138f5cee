"""Evaluate a checkpoint with a config's test loop.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                                           [--allow-pickle] [--cfg-options k=v ...]
                                           [--launcher ...]

Checkpoints load with ``weights_only=True`` and qbheat_mm's allow-list of MMEngine's
checkpoint types; ``--allow-pickle`` fully unpickles a file you trust.
"""
from __future__ import annotations

import argparse
import os.path as osp

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (compat patches and registration before the config is read)
from qbheat_mm.utils.cli import add_common_args, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file')
    add_common_args(parser)
    return parser.parse_args(argv)


def build_runner(args: argparse.Namespace) -> Runner:
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args)
    missing = [k for k in ('test_dataloader', 'test_cfg', 'test_evaluator')
               if cfg.get(k) is None]
    if missing:
        raise ValueError(f'{args.config} has no test loop (missing {", ".join(missing)}); '
                         'pre-training configs are evaluated by their validation loop or '
                         'by probing (see docs/en/user_guides/probing.md).')
    cfg.load_from = args.checkpoint
    if args.out:
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)


def main(argv: list[str] | None = None) -> dict:
    return build_runner(parse_args(argv)).test()


if __name__ == '__main__':
    main()
