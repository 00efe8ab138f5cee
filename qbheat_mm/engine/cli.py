"""Command-line plumbing shared by the scripts in ``tools/``."""
from __future__ import annotations

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from qbheat_mm import compat
from qbheat_mm.utils.config import read_config
from qbheat_mm.datasets import image_checks
from qbheat_mm.datasets.imagenet_layout import check_config_imagenet_layouts
from qbheat_mm.engine.cpu_distributed import prepare_cpu_distributed

__all__ = ['ConfigOptions', 'add_cfg_options', 'add_allow_pickle', 'add_common_args',
           'add_checkpoint_or_random',
           'read_config', 'load_config', 'check_launcher_env', 'LauncherEnvError']

# What each launcher must find in the environment of every process (mmengine reads it).
LAUNCHER_ENV = {
    'pytorch': ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
    'slurm': ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
}
LAUNCHER_HOWTO = {
    'pytorch': 'start the processes with torchrun, e.g. tools/dist_train.sh CONFIG GPUS '
               '(or tools/dist_test.sh CONFIG CHECKPOINT GPUS), which passes --launcher '
               'pytorch itself',
    'slurm': 'start it with srun, e.g. tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR',
}


class LauncherEnvError(RuntimeError):
    """``--launcher`` names a launcher whose environment variables are missing."""


def check_launcher_env(launcher: str, environ: dict | None = None) -> None:
    """Fail early, naming the fix, when ``--launcher`` was given without its launcher.

    mmengine would otherwise stop with a bare ``KeyError: 'RANK'`` (or wait for peers).
    """
    environ = os.environ if environ is None else environ
    missing = [k for k in LAUNCHER_ENV.get(launcher, ()) if k not in environ]
    if missing:
        raise LauncherEnvError(
            f'--launcher {launcher} needs the environment its launcher sets for every '
            f'process, but {", ".join(missing)} {"is" if len(missing) == 1 else "are"} not '
            f'set. To train with several processes, {LAUNCHER_HOWTO[launcher]}; for a '
            'single process, drop --launcher.')


class ConfigOptions(DictAction):
    """``--cfg-options KEY=VALUE ...`` as MMEngine's ``DictAction`` parses them, except that
    a single value keeps the spaces inside it: MMEngine removes every space, so
    ``init_cfg.checkpoint='/data/my runs/a.pth'`` became ``/data/myruns/a.pth`` and the
    error named a path nobody typed. Lists and tuples (``key="[a, b]"``) parse as
    MMEngine parses them."""

    @staticmethod
    def _parse_iterable(val: str):
        bare = val.strip('\'"')
        if not bare.startswith(('(', '[')) and ',' not in bare:
            return DictAction._parse_int_float_bool(bare)
        return DictAction._parse_iterable(val)


def add_cfg_options(parser, flag: str = '--cfg-options',
                    example: str = 'model.backbone.init_cfg.checkpoint=PATH '
                    'train_cfg.max_epochs=10') -> None:
    """The one declaration of ``--cfg-options`` (and of flags parsed like it)."""
    parser.add_argument(flag, nargs='+', action=ConfigOptions, metavar='KEY=VALUE',
                        help=f'override entries, e.g. {example} (a list: key="[a,b]", a '
                        'tuple: key="(a,b)"; quote a value with spaces)')


def add_allow_pickle(parser) -> None:
    """The one declaration of ``--allow-pickle``."""
    parser.add_argument(
        '--allow-pickle', action='store_true',
        help='fully unpickle checkpoints that hold types beyond tensors, HistoryBuffer and '
        'numpy values; this runs code from the file, so only for files you trust (same as '
        'QBHEAT_ALLOW_PICKLE=1)')


def add_checkpoint_or_random(parser: argparse.ArgumentParser, random_help: str) -> None:
    """The evaluation tools' one required choice: ``--checkpoint CKPT`` (a pre-training
    checkpoint or an extracted backbone) or ``--random`` (the random-init control)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', help='pre-training checkpoint or extracted backbone')
    source.add_argument('--random', action='store_true', help=random_help)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options every MMEngine entry point shares."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints '
                        '(default: ./work_dirs/<config name>)')
    add_cfg_options(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (pytorch for torchrun)')
    add_allow_pickle(parser)
    # torchrun sets LOCAL_RANK in the environment; older launchers pass --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace,
                dataloaders: tuple = ('train_dataloader', 'val_dataloader', 'test_dataloader')
                ) -> Config:
    """Read the config, apply ``--cfg-options``, the launcher, the work dir and
    ``--allow-pickle``; check the ImageNet folders of the ``dataloaders`` the tool will
    build (:mod:`qbheat_mm.datasets.imagenet_layout`); install the image checks (decode
    errors that name the file, :mod:`qbheat_mm.datasets.image_checks`); on a machine
    without a GPU, ready a multi-process run for the CPU
    (:func:`~qbheat_mm.engine.cpu_distributed.prepare_cpu_distributed`)."""
    check_launcher_env(args.launcher)
    if getattr(args, 'allow_pickle', False):
        compat.allow_pickle()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = read_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    check_config_imagenet_layouts(cfg, dataloaders)
    image_checks.install()
    prepare_cpu_distributed(cfg)
    return cfg
