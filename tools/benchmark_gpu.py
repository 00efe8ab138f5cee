"""docs/en/benchmarks.md's GPU table in one run: batch 256, bf16 autocast, one CUDA device.

    python tools/benchmark_gpu.py [--out work_dirs/benchmark_gpu] [--rounds 5]

Runs, on ``cuda:0``, (1) ``tools/benchmark.py --compare`` with every peer at 256 px, 256
images per step (per view for MoCo-v2), bf16 autocast, fused AdamW and channels-last, and
(2) ``tools/benchmark_speed_options.py`` at the same setting with ``--amp bf16``, and
writes ``compare.json``, ``speed_options.json`` and ``README_table.md`` (the GPU named,
torch and CUDA versions) under ``--out``. The numbers are only what this run measured.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

TOOLS = Path(__file__).resolve().parent


def _tool(name: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f'tool_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='work_dirs/benchmark_gpu')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=256)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit('no CUDA device: this script measures the GPU table only')
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.backends.cudnn.benchmark = True  # what the configs' env_cfg sets
    common = ['--img-size', '256', '--batch-size', str(args.batch_size), '--rounds',
              str(args.rounds), '--device', 'cuda']
    bench = _tool('benchmark')
    compare = bench.main(['--compare', *common, '--optimizer', 'fused', '--channels-last',
                          '--amp', 'bf16', '--json', str(out / 'compare.json')])
    speed = _tool('benchmark_speed_options').main(
        [*common, '--amp', 'bf16', '--json', str(out / 'speed_options.json')])
    name = torch.cuda.get_device_name(0)
    lines = [f'{name}, torch {torch.__version__}, CUDA {torch.version.cuda}; 256 px, '
             f'{args.batch_size} images per step, bf16 autocast, fused AdamW, '
             f'channels-last; {args.rounds} interleaved rounds, medians', '',
             bench.comparison_table(compare), '', 'Speed options (fp32 unless named):', '',
             '| variant | ms per step | speed-up over plain |', '|---|---|---|']
    lines += [f'| {k} | {r["ms"]:.1f} | {r["speedup"]:.2f}x |' for k, r in speed['rows'].items()]
    (out / 'README_table.md').write_text('\n'.join(lines) + '\n')
    (out / 'device.json').write_text(json.dumps(dict(gpu=name, torch=torch.__version__,
                                                     cuda=torch.version.cuda), indent=2))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
