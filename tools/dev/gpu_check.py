"""The device check: the project's GPU paths in one run of about 10 minutes on one GPU.

    python tools/dev/gpu_check.py prepare              # here: wheels and mmcv's sources
    python tools/dev/gpu_check.py run OUT [--dry-run] [--no-retinanet]   # on the GPU machine
    bash tools/dev/gpu_check.sh OUT                    # the same run, as one command line

``prepare`` (on a machine with the package registries) downloads into ``.gpu_check/``
(git-ignored; ``carry`` it to the device) what the device machine lacks: the pure-Python
OpenMMLab wheels and their small dependencies, the binary wheels it needs for its Python
(``--python-version``, default 3.12, the device image's), and mmcv's source archive. The
GPU machine has torch but no OpenMMLab package and no registry.

``run`` (on the GPU machine, from the repository root) installs them into a folder of its
own (``--site``), builds mmcv there from its sources, without compiled ops (seconds), and
runs, each under a time limit, writing its log:

1. ``pretrain``: the demo pre-training for 200 iterations on the GPU with AMP in
   bfloat16 and channels-last (``tools/train.py --amp --amp-dtype bfloat16
   --channels-last``): the loss must be finite and fall, the masked PSNR be logged;
2. ``benchmark``: the step benchmark on the GPU (``tools/benchmark.py --task gpu``:
   QB-Heat with both decoders against MoCo-v2 and the encoder floor, bf16, with memory);
3. ``torchrun``: a one-GPU ``torchrun`` launch of the demo (``tools/dist_train.sh``);
4. ``mmcv_cpu_ops``, ``retinanet``, ``retinanet_test`` (unless ``--no-retinanet``): mmcv
   rebuilt with its CPU ops on the machine's cores, then the demo RetinaNet trained on the
   GPU for a few hundred iterations from step 1's backbone through the fallbacks its
   config names (qbheat_mm/det/fallbacks.py: no mmcv CUDA kernel), then tested.

Written to OUT (at most 8 files, as the device tool returns them): ``results.md`` and
``summary.json`` (every step: its command, exit status, seconds, what was read from its
log), ``gpu_check.log`` (every step's output) and the benchmark's ``benchmark.json``. A
failed step is recorded and the run goes on to the next one; the exit status is 1 if any
step failed. ``--dry-run`` prints every step's command and runs nothing (tested on the
CPU: tests/tools/test_gpu_check.py).
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PREPARED = osp.join(REPO, '.gpu_check')
#: What the device image lacks (it has torch, numpy, scipy, matplotlib, opencv-python-
#: headless, rich, pyyaml, six, tqdm, click, markdown, zipp, scikit-image, tensorboard):
#: pure-Python packages, and packages with compiled code (their wheels for the device's
#: Python). ``prepare`` takes each at the version this project's environment has, so the
#: device runs the pins of setup.cfg and what they resolved to here.
PURE = ['mmengine', 'mmpretrain', 'mmdet', 'addict', 'yapf', 'termcolor', 'mat4py',
        'modelindex', 'model-index', 'ordered-set', 'terminaltables', 'platformdirs',
        'importlib-metadata']
BINARY = ['pycocotools', 'shapely']
PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64',
             'manylinux2014_x86_64']
DEMO = 'configs/qbheat_mobileformer_demo.py'
RETINANET = 'configs/detection/retinanet_mobileformer-294m-frozen_fpn_1xb8-6e_demo-coco.py'
PRETRAIN_ITERS = 200


class Step:
    """One check: its command, its time limit (seconds) and what to read from its log
    (``read()``: a dict with ``ok`` and the values found)."""

    def __init__(self, name: str, cmd: list, timeout: int, read=None, env=None):
        self.name, self.cmd, self.timeout, self.read = name, cmd, timeout, read
        self.env = env or {}


def _pip(*args: str) -> list:
    return [sys.executable, '-m', 'pip', '--disable-pip-version-check', *args]


def pinned(names: list[str]) -> list[str]:
    """``NAME==VERSION`` of each name as installed in this environment."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return [f'{name}=={version(name)}' for name in names]
    except PackageNotFoundError as exc:
        raise SystemExit(f'gpu_check prepare: {exc} is not installed here: run it with the '
                         "project's environment (.venv/bin/python, after make setup-det)")


def prepare(python_version: str) -> None:
    wheels = osp.join(PREPARED, 'wheels')
    os.makedirs(wheels, exist_ok=True)
    subprocess.run(_pip('download', '-q', '--no-deps', '-d', wheels, *pinned(PURE)),
                   check=True)
    platforms = [f'--platform={p}' for p in PLATFORMS]
    subprocess.run(_pip('download', '-q', '--no-deps', '--only-binary=:all:',
                        f'--python-version={python_version}', '--implementation=cp',
                        *platforms, '-d', wheels, *pinned(BINARY)), check=True)
    subprocess.run(_pip('download', '-q', '--no-deps', '--no-binary=:all:',
                        '--no-build-isolation', '-d', PREPARED, *pinned(['mmcv'])),
                   check=True)
    print('\n'.join(sorted(os.listdir(wheels))))
    print(f'prepared {PREPARED}: carry it to the device (device tool: carry=[".gpu_check"])')


def mmcv_build(site: str, ops: bool, jobs: int) -> list:
    """A shell command that builds mmcv from the carried sources into ``site``."""
    archive = osp.join(PREPARED, 'mmcv-2.1.0.tar.gz')
    build = '/tmp/gpu_check_mmcv_' + ('cpu_ops' if ops else 'no_ops')
    env = (f'MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES= MAX_JOBS={jobs}' if ops
           else 'MMCV_WITH_OPS=0')
    wheel = shlex.join(_pip('wheel', '-q', '--no-build-isolation', '--no-deps', '-w', 'dist',
                            '.'))
    install = shlex.join(_pip('install', '-q', '--no-deps', '--no-compile', '--upgrade',
                              '--target', site))
    # the sed lines are scripts/setup.sh's: C++20 for torch's headers, one name for both
    script = (f'rm -rf {build} && mkdir -p {build} && tar -xzf {archive} -C {build} && '
              f'cd {build}/mmcv-2.1.0 && '
              "sed -i 's/-std=c++17/-std=c++20/g' setup.py && "
              "sed -i \"s/name='mmcv' if os.getenv('MMCV_WITH_OPS', '1') == '1' else "
              "'mmcv-lite'/name='mmcv'/\" setup.py && "
              f'env {env} {wheel} && {install} dist/mmcv-*.whl')
    return ['bash', '-c', script]


def _scalars(work_dir: str) -> list[dict]:
    """The records MMEngine logged in ``work_dir``: a training's ``vis_data/scalars.json``,
    a test's ``<stamp>/<stamp>.json``."""
    records = []
    paths = (glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
             + [p for p in glob.glob(osp.join(work_dir, '*', '*.json'))
                if osp.basename(p)[:-5] == osp.basename(osp.dirname(p))])
    for path in sorted(paths):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def read_pretrain(work_dir: str) -> dict:
    """Loss finite and falling (first vs last logged window), the masked PSNR logged."""
    records = _scalars(work_dir)
    losses = [r['loss'] for r in records if 'loss' in r]
    psnr = [r['recon/psnr_masked'] for r in records if 'recon/psnr_masked' in r]
    finite = bool(losses) and all(math.isfinite(v) for v in losses)
    ok = finite and len(losses) > 1 and losses[-1] < losses[0] and bool(psnr)
    return dict(ok=ok, first_loss=losses[0] if losses else None,
                last_loss=losses[-1] if losses else None, finite=finite,
                psnr_masked=psnr[-1] if psnr else None,
                psnr_masked_gain=next((r['recon/psnr_masked_gain'] for r in reversed(records)
                                       if 'recon/psnr_masked_gain' in r), None))


def read_coco(work_dir: str) -> dict:
    ap = [r['coco/bbox_mAP'] for r in _scalars(work_dir) if 'coco/bbox_mAP' in r]
    return dict(ok=bool(ap), bbox_mAP=ap[-1] if ap else None)


def read_benchmark(work_dir: str) -> dict:
    path = osp.join(work_dir, 'results.json')
    return dict(ok=osp.isfile(path), results=path if osp.isfile(path) else None)


def steps(work: str, site: str, retinanet: bool) -> list[Step]:
    py = sys.executable
    jobs = os.cpu_count() or 1
    pretrain = osp.join(work, 'pretrain')
    plan = [
        Step('install', ['bash', '-c', shlex.join(_pip(
            'install', '-q', '--no-index', '--no-deps', '--no-compile', '--upgrade',
            '--target', site)) + f' {PREPARED}/wheels/*.whl'], 120),
        Step('mmcv_no_ops', mmcv_build(site, False, jobs), 120),
        Step('pretrain', [py, 'tools/train.py', DEMO, '--work-dir', pretrain, '--amp',
                          '--amp-dtype', 'bfloat16', '--channels-last', '--cfg-options',
                          f'train_cfg.max_iters={PRETRAIN_ITERS}',
                          f'train_cfg.val_interval={PRETRAIN_ITERS}',
                          f'default_hooks.checkpoint.interval={PRETRAIN_ITERS}',
                          'default_hooks.logger.interval=20'], 240,
             read=lambda: read_pretrain(pretrain)),
        Step('benchmark', [py, 'tools/benchmark.py', '--task', 'gpu', '--peers', 'qbheat',
                           'qbheat_lightdec', 'mocov2', '--rounds', '3', '--work-dir',
                           osp.join(work, 'benchmark')], 240,
             read=lambda: read_benchmark(osp.join(work, 'benchmark'))),
        Step('torchrun', ['bash', 'tools/dist_train.sh', DEMO, '1', '--work-dir',
                          osp.join(work, 'torchrun'), '--cfg-options', 'train_cfg.max_iters=20',
                          'train_cfg.val_interval=20', 'default_hooks.checkpoint.interval=20'],
             180, read=lambda: read_pretrain(osp.join(work, 'torchrun'))),
    ]
    if retinanet:
        retina = osp.join(work, 'retinanet')
        checkpoint = osp.join(pretrain, f'iter_{PRETRAIN_ITERS}.pth')
        plan += [
            Step('mmcv_cpu_ops', mmcv_build(site, True, jobs), 420),
            Step('retinanet', [py, 'tools/train.py', RETINANET, '--work-dir', retina,
                               '--cfg-options',
                               f'model.backbone.init_cfg.checkpoint={checkpoint}',
                               'train_cfg.max_epochs=12', 'train_cfg.val_interval=12',
                               'default_hooks.checkpoint.interval=12'], 300,
                 read=lambda: read_coco(retina)),
            Step('retinanet_test', [py, 'tools/test.py', RETINANET,
                                    osp.join(retina, 'epoch_12.pth'), '--work-dir',
                                    osp.join(work, 'retinanet_test'), '--cfg-options',
                                    f'model.backbone.init_cfg.checkpoint={checkpoint}'], 180,
                 read=lambda: read_coco(osp.join(work, 'retinanet_test'))),
        ]
    return plan


def run(out: str, dry_run: bool, retinanet: bool, site: str, work: str) -> int:
    plan = steps(work, site, retinanet)
    if dry_run:
        for step in plan:
            print(f'{step.name}: {shlex.join(step.cmd)}')
        return 0
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([site, REPO]), PYTHONUNBUFFERED='1',
               OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '8'))
    summary = dict(gpu=_gpu(), python=sys.version.split()[0], steps=[])
    log = open(osp.join(out, 'gpu_check.log'), 'w')
    for step in plan:
        start = time.time()
        log.write(f'\n==== {step.name}: {shlex.join(step.cmd)}\n')
        log.flush()
        try:
            code = subprocess.run(step.cmd, cwd=REPO, env={**env, **step.env}, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=step.timeout).returncode
        except subprocess.TimeoutExpired:
            code = 'timeout'
        record = dict(name=step.name, command=shlex.join(step.cmd), exit=code,
                      seconds=round(time.time() - start, 1))
        if step.read is not None and code == 0:
            record.update(step.read())
        record['ok'] = code == 0 and record.get('ok', True)
        summary['steps'].append(record)
        print(f"{step.name}: {'ok' if record['ok'] else 'FAILED'} ({record['seconds']} s)",
              flush=True)
    log.close()
    bench = osp.join(work, 'benchmark', 'results.json')
    if osp.isfile(bench):
        with open(bench) as f, open(osp.join(out, 'benchmark.json'), 'w') as g:
            g.write(f.read())
    with open(osp.join(out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    with open(osp.join(out, 'results.md'), 'w') as f:
        f.write(markdown(summary, osp.join(work, 'benchmark', 'results.md')))
    return 0 if all(s['ok'] for s in summary['steps']) else 1


def _gpu() -> str:
    try:
        import torch
        return (f'{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA '
                f'{torch.version.cuda}') if torch.cuda.is_available() else 'no GPU'
    except ImportError:
        return 'no torch'


def markdown(summary: dict, benchmark_md: str) -> str:
    lines = ['# The device check (tools/dev/gpu_check.py)', '',
             f"{summary['gpu']}, Python {summary['python']}.", '',
             '| step | ok | seconds | read from its log |', '|---|---|---|---|']
    for s in summary['steps']:
        found = {k: v for k, v in s.items()
                 if k not in ('name', 'command', 'exit', 'seconds', 'ok', 'results')}
        lines.append(f"| {s['name']} | {'yes' if s['ok'] else 'NO (exit ' + str(s['exit']) + ')'}"
                     f" | {s['seconds']} | "
                     + ', '.join(f'{k} {v:.4g}' if isinstance(v, float) else f'{k} {v}'
                                 for k, v in found.items()) + ' |')
    if osp.isfile(benchmark_md):
        with open(benchmark_md) as f:
            body = f.read().partition('\n\n')[2]
        lines += ['', '## The step benchmark', '', re.sub(r'^#+ ', '', body, flags=re.M)]
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='what', required=True)
    p = sub.add_parser('prepare', help='download what the device lacks into .gpu_check/')
    p.add_argument('--python-version', default='3.12', help="the device's Python")
    r = sub.add_parser('run', help='run the checks (on the GPU machine)')
    r.add_argument('out', help='results folder ($OUT on the device)')
    r.add_argument('--dry-run', action='store_true', help='print the commands only')
    r.add_argument('--no-retinanet', dest='retinanet', action='store_false',
                   help='skip the CPU-ops mmcv build and the RetinaNet checks')
    r.add_argument('--site', default='/tmp/gpu_check_site',
                   help='where the carried packages are installed')
    r.add_argument('--work', default='/tmp/gpu_check_work', help='work dirs of the runs')
    args = parser.parse_args(argv)
    if args.what == 'prepare':
        prepare(args.python_version)
        return 0
    return run(args.out, args.dry_run, args.retinanet, args.site, args.work)


if __name__ == '__main__':
    sys.exit(main())
