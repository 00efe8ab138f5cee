"""Command-line plumbing shared by the scripts in ``tools/``."""
from __future__ import annotations

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, init_default_scope
from torch import nn

__all__ = ['add_common_args', 'read_config', 'load_config', 'build_model_from_config']


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


def read_config(path: str, cfg_options: dict | None = None) -> Config:
    """Read a config (its ``custom_imports`` register qbheat_mm) and apply overrides."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_model_from_config(path: str,
                            cfg_options: dict | None = None) -> tuple[nn.Module, Config]:
    """Build ``cfg.model`` of a config in the config's default scope; return both."""
    cfg = read_config(path, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return MODELS.build(cfg.model), cfg


def load_config(args: argparse.Namespace) -> Config:
    """Read the config, apply ``--cfg-options``, the launcher and the work dir."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = read_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg
