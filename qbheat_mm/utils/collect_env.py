"""Environment report: what a bug report or a benchmark needs to be reproducible.

Run ``python tools/collect_env.py`` (or ``python -m qbheat_mm.utils.collect_env``).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import platform
import subprocess
import sys
from collections import OrderedDict

__all__ = ['collect_env', 'mmcv_ops_status', 'nms_on_gpu_status', 'main']

# (import name, distribution name): some packages set no __version__ (pycocotools).
_PACKAGES = (('torch', 'torch'), ('torchvision', 'torchvision'), ('mmengine', 'mmengine'),
             ('mmcv', 'mmcv'), ('mmdet', 'mmdet'), ('mmpretrain', 'mmpretrain'),
             ('numpy', 'numpy'), ('pycocotools', 'pycocotools'),
             ('cv2', 'opencv-python-headless'), ('skimage', 'scikit-image'))


def _version(module_name: str, dist_name: str | None = None) -> str:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is worth reporting, not raising
        return f'not importable ({type(exc).__name__}: {exc})'
    version = getattr(module, '__version__', None)
    if version is None and dist_name:
        try:
            version = importlib.metadata.version(dist_name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return version or 'unknown'


def mmcv_ops_status() -> str:
    """Whether mmcv's compiled extension loads, which flavour it is (CUDA ops or CPU-only
    ops) and the compilers it was built with; ``'none ...'`` for an mmcv built without
    them (the main job's set-up level)."""
    from qbheat_mm.utils.mmcv_ops import SETUP_DET, mmcv_ops_installed
    if not mmcv_ops_installed():
        return f'none (mmcv built without compiled ops; detection needs them: {SETUP_DET})'
    try:
        from mmcv.ops import get_compiler_version, get_compiling_cuda_version
    except Exception as exc:
        return f'NOT compiled ({type(exc).__name__}: {exc})'
    cuda = get_compiling_cuda_version()
    # mmcv's extension answers 'not available' when it was compiled without MMCV_WITH_CUDA.
    flavour = 'CPU-only ops' if cuda == 'not available' else 'CUDA ops'
    return f'compiled, {flavour} (compiler: {get_compiler_version()}, CUDA: {cuda})'


def batched_nms_keeps(device: str) -> list[int]:
    """Indices MMDetection's NMS (``mmcv.ops.batched_nms``) keeps of three boxes on
    ``device``: two overlapping boxes of class 0, the weaker of which goes, and a box of
    class 1 that overlaps the first but stays because NMS works per class."""
    import torch
    from mmcv.ops import batched_nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [0., 0., 10., 10.]],
                         device=device)
    scores = torch.tensor([0.9, 0.8, 0.7], device=device)
    classes = torch.tensor([0, 0, 1], device=device)
    _, keep = batched_nms(boxes, scores, classes, dict(type='nms', iou_threshold=0.5))
    return sorted(keep.tolist())


def nms_on_gpu_status() -> str:
    """``'no GPU'``, ``'yes (...)'`` when ``batched_nms`` on CUDA tensors gives the CPU's
    answer, else ``'NO (...)'`` with the reason (CPU-only mmcv ops raise here)."""
    try:
        import torch
        if not torch.cuda.is_available():
            return 'no GPU'
        from qbheat_mm.utils.mmcv_ops import mmcv_ops_installed
        if not mmcv_ops_installed():
            return 'no mmcv ops'
        expected = batched_nms_keeps('cpu')
        got = batched_nms_keeps('cuda')
    except Exception as exc:
        return f'NO ({type(exc).__name__}: {str(exc).strip().splitlines()[0]})'
    if got != expected:
        return f'NO (batched_nms on cuda kept boxes {got}, on cpu {expected})'
    return f'yes (batched_nms on {torch.cuda.get_device_name(0)} kept boxes {got} as on cpu)'


def git_commit() -> str:
    """The checkout's short commit, with a note when it has uncommitted changes."""
    from qbheat_mm.utils.config import REPO as repo
    try:
        out = subprocess.run(['git', '-C', str(repo), 'rev-parse', '--short', 'HEAD'],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(['git', '-C', str(repo), 'status', '--porcelain'],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return 'unknown (git not available)'
    if out.returncode != 0:
        return 'unknown (not a git checkout)'
    return out.stdout.strip() + (' (with uncommitted changes)' if dirty.stdout.strip() else '')


def collect_env() -> 'OrderedDict[str, str]':
    """Return an ordered mapping of what matters for reproducing a run."""
    env: OrderedDict[str, str] = OrderedDict()
    env['python'] = sys.version.replace('\n', ' ')
    env['platform'] = platform.platform()
    for module_name, dist_name in _PACKAGES:
        env[module_name] = _version(module_name, dist_name)
    env['mmcv ops'] = mmcv_ops_status()
    env['NMS on GPU'] = nms_on_gpu_status()
    try:
        import torch
        env['CUDA available'] = str(torch.cuda.is_available())
        if torch.cuda.is_available():
            env['GPUs'] = ', '.join(torch.cuda.get_device_name(i)
                                    for i in range(torch.cuda.device_count()))
        env['torch CUDA build'] = str(torch.version.cuda)
        env['torch threads'] = str(torch.get_num_threads())
    except Exception as exc:
        env['CUDA available'] = f'unknown ({exc})'
    env['qbheat_mm'] = _version('qbheat_mm')
    env['git commit'] = git_commit()
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--short', action='store_true',
                        help='one line; exit non-zero when a package or the mmcv ops fail')
    args = parser.parse_args(argv)
    env = collect_env()
    broken = [k for k, v in env.items() if v.startswith(('not importable', 'NOT compiled'))]
    cpu_only_ops = 'CPU-only ops' in env['mmcv ops']
    if env['NMS on GPU'].startswith('NO') and not cpu_only_ops:
        broken.append('NMS on GPU')  # CUDA ops that fail on this GPU: a broken build
    if args.short:
        print(', '.join(f'{k} {env[k]}' for k in ('torch', 'mmengine', 'mmcv', 'mmdet',
                                                    'mmpretrain', 'qbheat_mm')),
              '| mmcv ops:', env['mmcv ops'].split(' (')[0],
              '| NMS on GPU:', env['NMS on GPU'].split(' (')[0])
    else:
        width = max(map(len, env))
        for key, value in env.items():
            print(f'{key:<{width}} : {value}')
    if env['NMS on GPU'].startswith('NO') and cpu_only_ops:
        print("Note: mmcv has CPU-only ops on a GPU machine: the project's detection configs "
              'run on the GPU through their fallbacks (a PyTorch focal loss, torchvision '
              "NMS), mmcv's other CUDA kernels are missing (docs/en/get_started.md, "
              '"Install on a GPU machine").', file=sys.stderr)
    if broken:
        print('Broken: ' + '; '.join(f'{k}: {env[k]}' for k in broken), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
