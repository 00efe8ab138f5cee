"""Evaluate a checkpoint with a config's test loop.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                                           [--allow-pickle] [--cfg-options k=v ...]
                                           [--launcher ...]

Checkpoints load with ``weights_only=True`` and qbheat_mm's allow-list of MMEngine's
checkpoint types; ``--allow-pickle`` fully unpickles a file you trust. They load strictly:
a checkpoint that does not fit the config's model (an extracted backbone given to a
probe config, a checkpoint of another width or library) stops with its missing,
unexpected and mis-shaped keys and the fix, instead of scoring random weights;
``--load-non-strict`` is the explicit opt-out.
"""
from __future__ import annotations

import argparse
import os.path as osp

from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (compat patches and registration before the config is read)
from qbheat_mm.engine.runner import AtomicCheckpointRunner
from qbheat_mm.utils.checkpoint import load_checkpoint_strict
from qbheat_mm.engine.cli import add_common_args, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file')
    parser.add_argument('--load-non-strict', action='store_true',
                        help='load only the checkpoint keys that fit the model (the others '
                        'keep random values: the score is then not the checkpoint\'s)')
    add_common_args(parser)
    return parser.parse_args(argv)


def build_runner(args: argparse.Namespace) -> Runner:
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args, dataloaders=('test_dataloader', ))
    missing = [k for k in ('test_dataloader', 'test_cfg', 'test_evaluator')
               if cfg.get(k) is None]
    if missing:
        raise ValueError(f'{args.config} has no test loop (missing {", ".join(missing)}); '
                         'pre-training configs are evaluated by their validation loop or '
                         'by probing (see docs/en/user_guides/probing.md).')
    cfg.load_from = args.checkpoint
    cfg.load_non_strict = args.load_non_strict
    if args.out:
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    if not isinstance(runner, AtomicCheckpointRunner) and not args.load_non_strict:
        # the project's Runner checks its loads itself; another one loads with strict=False
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        load_checkpoint_strict(model, args.checkpoint, prefix='', load=False)
    return runner


def main(argv: list[str] | None = None) -> dict:
    return build_runner(parse_args(argv)).test()


if __name__ == '__main__':
    main()
