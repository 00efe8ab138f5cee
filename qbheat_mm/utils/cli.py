"""Command-line plumbing shared by ``tools/train.py`` and ``tools/test.py``."""
from __future__ import annotations

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

__all__ = ['add_common_args', 'load_config']


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options every MMEngine entry point shares."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. model.backbone.init_cfg.checkpoint=PATH '
        'train_cfg.max_epochs=10 (a list: key="[a,b]", a tuple: key="(a,b)")')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (pytorch for torchrun)')
    # torchrun sets LOCAL_RANK in the environment; older launchers pass --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read the config, apply ``--cfg-options``, the launcher and the work dir."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg
