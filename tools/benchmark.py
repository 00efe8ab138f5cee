"""Benchmark a QB-Heat config: one training step and its parts, side by side.

    python tools/benchmark.py [CONFIG] [--img-size 256] [--batch-size 32] [--iters 10]
                              [--device cpu|cuda] [--json OUT.json] [--cfg-options k=v ...]

Prints milliseconds per forward + backward of the whole step, of the encoder on the
visible quarter and on the full image, of the heat neck and of the decoder, plus the
ratios that matter: quarter / full encoder cost and the neck's share of a step.
"""
from __future__ import annotations

import argparse
import json

import torch
from mmengine.config import DictAction

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.utils.benchmark import benchmark_qbheat
from qbheat_mm.utils.cli import build_model_from_config
from qbheat_mm.utils.collect_env import collect_env


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default='configs/qbheat_mobileformer_in1k.py')
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', help='also write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    model, _ = build_model_from_config(args.config, args.cfg_options)
    model = model.to(args.device).train()
    result = benchmark_qbheat(model, args.img_size, args.batch_size, args.iters, args.warmup)
    env = collect_env()
    result['setting'] = dict(config=args.config, img_size=args.img_size,
                             batch_size=args.batch_size, device=args.device,
                             torch=env['torch'], threads=env['torch threads'],
                             gpus=env.get('GPUs'))
    print(f'{args.config} | {args.batch_size} x 3 x {args.img_size} x {args.img_size} | '
          f'{args.device}')
    for key in ('step', 'encoder_quarter', 'encoder_full', 'neck', 'decoder'):
        print(f'  {key:<16} {result[key]:10.2f} ms (forward + backward)')
    print(f'  encoder quarter / full image : {result["encoder_quarter_over_full"]:.3f}')
    print(f'  neck share of a step         : {100 * result["neck_share_of_step"]:.2f} %')
    print(f'  throughput                   : {result["images_per_s"]:.1f} images/s')
    if result['peak_memory_mb'] is not None:
        print(f'  peak memory of a step        : {result["peak_memory_mb"]:.0f} MiB')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
