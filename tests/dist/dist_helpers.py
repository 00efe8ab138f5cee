"""Helpers of the 2-process tests (a plain module: ``conftest`` is not importable by name).

They launch ``tools/dist_train.sh`` / ``tools/dist_test.sh`` (torchrun) as a user would, on
the CPU: ``CUDA_VISIBLE_DEVICES`` is emptied so that the gloo path of
:mod:`qbheat_mm.engine.cpu_distributed` runs even on a machine with a GPU, and every launch gets a free
port so that tests never collide. The real configs are loaded and only their data and
schedule are shrunk (64 px demo photographs, 2 images per process, 2 iterations per
epoch); ``rank_state_hook.DumpRankStateHook`` makes every rank save its final state.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Optional

import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'
HERE = Path(__file__).resolve().parent
NPROC = 2
BATCH = 2  # per process
ITERS_PER_EPOCH = 2
TRAIN_IMAGES = NPROC * BATCH * ITERS_PER_EPOCH
# DemoPhotoDataset at 64 px: 8 photographs x 2 train crops, 8 x 1 val crops.
PHOTOS = dict(img_size=64, num_train=2, num_val=1)
LAUNCH_TIMEOUT = 600


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(('', 0))
        return s.getsockname()[1]


def dist_env(**extra: str) -> dict:
    """The environment of a launch: this interpreter's bin first on PATH (the scripts call
    ``python``), the test hook importable, one thread per process, no GPU, a free port."""
    env = dict(os.environ)
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env.get("PATH", "")}'
    env['PYTHONPATH'] = os.pathsep.join(
        [str(HERE)] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PORT=str(free_port()))
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT',
                'NNODES', 'NODE_RANK'):
        env.pop(key, None)
    env.update(extra)
    return env


def output(proc: subprocess.CompletedProcess) -> str:
    """stdout and stderr of a finished command (MMEngine logs to stdout, errors go to
    stderr)."""
    return f'{proc.stdout}\n{proc.stderr}'


def run(cmd: list[str], env: Optional[dict] = None, check: bool = True,
        timeout: int = LAUNCH_TIMEOUT) -> subprocess.CompletedProcess:
    """Run a command from the repository root; with ``check``, show its output on failure."""
    proc = subprocess.run([str(c) for c in cmd], cwd=REPO, env=env or dist_env(),
                          capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, (f'{" ".join(map(str, cmd))} exited '
                                      f'{proc.returncode}:\n{output(proc)[-6000:]}')
    return proc


def dist_train(config: Path, work_dir: Path, *args: str, nproc: int = NPROC,
               env: Optional[dict] = None) -> str:
    """``tools/dist_train.sh CONFIG NPROC --work-dir WORK_DIR ARGS``; returns its output."""
    proc = run(['bash', TOOLS / 'dist_train.sh', config, nproc, '--work-dir', work_dir,
                *args], env=env)
    return output(proc)


def write_config(cfg: Config, path: Path) -> Path:
    """Add the rank-state hook and a verbose log to a config and dump it to ``path``."""
    imports = list(cfg.custom_imports['imports'])
    cfg.custom_imports = dict(imports=imports + ['rank_state_hook'],
                              allow_failed_imports=False)
    cfg.custom_hooks = [dict(type='DumpRankStateHook')]
    cfg.log_level = 'INFO'
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=-1)
    cfg.dump(path)
    return path


def demo_photo_loader(cfg_loader: dict, root: Path, split: str, size: int) -> dict:
    """A config's dataloader on the 64 px demo photographs: the config's pipeline with its
    crop and resize sizes set to ``size``, 2 images per process, one worker that is
    re-created every epoch.

    A fresh worker starts from the same mmengine worker seed every epoch, so a run resumed
    at an epoch boundary draws the same augmentations as the uninterrupted one (a
    persistent worker would continue its random stream instead).
    """
    loader = dict(cfg_loader)
    dataset = dict(loader['dataset'])
    dataset.update(type='DemoPhotoDataset', data_root=str(root), split=split, **PHOTOS)
    dataset.pop('indices', None)
    if split == 'train':
        dataset['indices'] = TRAIN_IMAGES
    dataset['pipeline'] = [resize_step(step, size) for step in dataset['pipeline']]
    loader.update(batch_size=BATCH, num_workers=1, persistent_workers=False,
                  dataset=dataset)
    loader.pop('pin_memory', None)
    return loader


def resize_step(step: dict, size: int) -> dict:
    """One pipeline step with its output size set to ``size`` (MultiView recursively)."""
    step = dict(step)
    if step['type'] in ('RandomResizedCrop', 'ResizeEdge'):
        step['scale'] = size
    elif step['type'] == 'CenterCrop':
        step['crop_size'] = size
    elif step['type'] == 'MultiView':
        step['transforms'] = [[resize_step(s, size) for s in view]
                              for view in step['transforms']]
    return step


def short_schedule(cfg: Config, epochs: int = 2) -> None:
    """``epochs`` epochs: one of linear warm-up, then cosine, iteration-based."""
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs,
                         val_interval=epochs)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
             convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', T_max=epochs - 1, eta_min=0.0, by_epoch=True,
             begin=1, end=epochs, convert_to_iter_based=True),
    ]


def rank_states(work_dir: Path, nproc: int = NPROC) -> list[dict]:
    """What ``DumpRankStateHook`` saved for each rank."""
    return [torch.load(work_dir / f'rank{r}.pth', map_location='cpu', weights_only=False)
            for r in range(nproc)]


def differing(a: dict, b: dict, keys) -> dict[str, float]:
    """Keys whose tensors differ, with their largest absolute difference."""
    out = {}
    for key in keys:
        x, y = a[key], b[key]
        if x.shape != y.shape or not torch.equal(x, y):
            out[key] = (float((x.double() - y.double()).abs().max())
                        if x.shape == y.shape else float('inf'))
    return out


def assert_ranks_identical(states: list[dict], keys) -> None:
    """Every rank holds bit-identical tensors under ``keys``."""
    keys = list(keys)
    assert keys
    for r, other in enumerate(states[1:], start=1):
        diff = differing(states[0]['state'], other['state'], keys)
        assert not diff, f'rank 0 and rank {r} differ: {dict(list(diff.items())[:5])}'


def assert_resume_reproduces(full: dict, resumed: dict) -> None:
    """The resumed run ends where the uninterrupted one did: same iteration, same state."""
    assert (resumed['iter'], resumed['epoch']) == (full['iter'], full['epoch'])
    diff = differing(full['state'], resumed['state'], full['state'])
    assert set(full['state']) == set(resumed['state'])
    assert not diff, f'resumed run differs from the uninterrupted one: {diff}'


def checkpoint_state(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


QBHEAT_CONFIG = REPO / 'configs' / 'qbheat_mobileformer_in1k.py'


def qbheat_config(tmp: Path, photos: Path) -> Path:
    """The entry point's model exactly as configured (Mobile-Former-294M and whatever the
    neck, decoder and head are today) on 64 px photographs for 2 short epochs."""
    cfg = Config.fromfile(QBHEAT_CONFIG)
    cfg.train_dataloader = demo_photo_loader(cfg.train_dataloader, photos, 'train', 64)
    cfg.val_dataloader = demo_photo_loader(cfg.val_dataloader, photos, 'val', 64)
    short_schedule(cfg)
    return write_config(cfg, tmp / 'qbheat_mobileformer_dist.py')
