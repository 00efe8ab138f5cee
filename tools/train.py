"""Train a model from an MM-style config (pre-training, probing or detection).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]] [--amp [--amp-dtype T]]
                                 [--channels-last] [--allow-pickle] [--skip-bad-images]
                                 [--tensorboard]
                                 [--cfg-options k=v ...]
                                 [--launcher none|pytorch|slurm|mpi]

Multi-GPU: ``tools/dist_train.sh CONFIG GPUS`` (torchrun) or ``tools/slurm_train.sh``;
without a GPU the processes run on the CPU with the gloo backend
(qbheat_mm.engine.cpu_distributed, installed for such runs only).
"""
from __future__ import annotations

import argparse

import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (compat patches and registration before the config is read)
from qbheat_mm.datasets import skip_bad_images
from qbheat_mm.engine.channels_last import channels_last_runner
from qbheat_mm.engine.hooks import EpochSeedHook
from qbheat_mm.engine.cli import add_common_args, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='auto|PATH',
        help='resume from PATH, or with no value (or "auto") from the latest checkpoint '
        'in the work dir; model, optimizer, scheduler and iteration are restored')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs a CUDA GPU)')
    parser.add_argument('--amp-dtype', choices=('float16', 'bfloat16'), default=None,
                        help='the autocast type of --amp (default: float16 with a dynamic '
                        'loss scale, as mmengine; bfloat16 needs no scaling)')
    parser.add_argument('--channels-last', action='store_true',
                        help='weights (and so activations) in the channels-last memory '
                        'format, the fast layout of GPU convolutions; the same loss within '
                        'float rounding')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by actual / base batch size (auto_scale_lr in config)')
    parser.add_argument('--skip-bad-images', action='store_true',
                        help='skip training images that cannot be read (each skip is '
                        'logged with a running count) instead of stopping with an error '
                        'naming the file; validation and test images always stop')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log scalars (loss, lr, metrics) and images (e.g. '
                        'reconstructions) to TensorBoard under WORK_DIR/<timestamp>/vis_data')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip the validation loop during training')
    parser.add_argument('--load-non-strict', action='store_true',
                        help='load_from and --resume PATH load only the checkpoint keys that '
                        'fit the model (the others keep their initial values) instead of '
                        'stopping on a checkpoint of another model')
    add_common_args(parser)
    return parser.parse_args(argv)


def build_runner(args: argparse.Namespace) -> Runner:
    cfg = load_config(args, dataloaders=('train_dataloader', ) if args.no_validate
                      else ('train_dataloader', 'val_dataloader'))
    if args.skip_bad_images:
        skip_bad_images()
    if args.tensorboard:
        add_tensorboard(cfg)
    if args.amp:
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper asserts '
                               'CUDA); drop --amp to train in fp32 on the CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if args.amp_dtype:
            cfg.optim_wrapper.dtype = args.amp_dtype
    elif args.amp_dtype:
        raise ValueError('--amp-dtype chooses the type of --amp: add --amp')
    if args.load_non_strict:
        cfg.load_non_strict = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError('--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...) '
                             'in the config')
        cfg.auto_scale_lr.enable = True
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner_cls = runner_class(cfg)
    if args.channels_last:
        runner_cls = channels_last_runner(runner_cls)
    runner = runner_cls.from_cfg(cfg)
    # Per-epoch seeds make a resumed run continue exactly as the uninterrupted one (the
    # project's Runner registers them itself; another Runner gets them here).
    if not any(isinstance(hook, EpochSeedHook) for hook in runner.hooks):
        runner.register_hook(EpochSeedHook())
    if cfg.get('auto_scale_lr', {}).get('enable', False):
        report_lr_scaling(runner)
    return runner


def runner_class(cfg: Config) -> type:
    """The Runner class a config asks for (``runner_type``, default MMEngine's Runner),
    looked up as MMEngine's ``RUNNERS.build`` looks it up."""
    runner_type = cfg.get('runner_type', 'Runner')
    if isinstance(runner_type, type):
        return runner_type
    with RUNNERS.switch_scope_and_registry(cfg.get('_scope_')) as registry:
        runner_cls = registry.get(runner_type)
    if runner_cls is None:
        raise KeyError(f'runner_type={runner_type!r} is not a registered runner; register '
                       'it in mmengine.registry.RUNNERS or leave runner_type out')
    return runner_cls


def add_tensorboard(cfg: Config) -> None:
    """Add MMEngine's ``TensorboardVisBackend`` to the config's visualizer (created with
    the Runner's default local backend when the config has none).

    Iteration-based runs also log validation metrics at the iteration: MMEngine's
    ``LoggerHook`` puts them at the epoch, which is 0 throughout such a run.
    """
    visualizer = cfg.get('visualizer') or dict(type='Visualizer')
    backends = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    if not any(str(b.get('type', '')).endswith('TensorboardVisBackend') for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer
    if 'IterBased' in str(cfg.get('train_cfg', {}).get('type', '')):
        logger = cfg.setdefault('default_hooks', {}).setdefault('logger',
                                                                 dict(type='LoggerHook'))
        logger.setdefault('log_metric_by_epoch', False)


def report_lr_scaling(runner: Runner) -> None:
    """Log world size, total batch and the learning rate that auto_scale_lr really set.

    mmengine's own line gives the ratio only. This wraps ``runner.scale_lr`` (called by
    ``Runner.train`` right after building the optimizer) to read the optimizer's lr after
    scaling, before any warm-up factor of the param schedulers.
    """
    scale_lr = runner.scale_lr

    def scale_and_report(optim_wrapper, auto_scale_lr=None) -> None:
        before = optim_wrapper.get_lr()
        scale_lr(optim_wrapper, auto_scale_lr)
        per_process = runner.cfg.train_dataloader.batch_size
        base = auto_scale_lr['base_batch_size']
        total = runner.world_size * per_process

        def fmt(lrs: dict) -> str:
            return ', '.join(f'{k} {sorted(set(v))}' if len(set(v)) > 1 else f'{k} {v[0]:.6g}'
                             for k, v in lrs.items())

        runner.logger.info(
            f'auto_scale_lr: world size {runner.world_size} x {per_process} per process = '
            f'total batch {total} (config written for {base}, ratio {total / base:.6g}); '
            f'{fmt(before)} -> {fmt(optim_wrapper.get_lr())} (lr used, before warm-up)')

    runner.scale_lr = scale_and_report


def main(argv: list[str] | None = None) -> None:
    build_runner(parse_args(argv)).train()


if __name__ == '__main__':
    main()
