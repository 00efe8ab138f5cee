"""Benchmark QB-Heat: the parts of one training step, or QB-Heat against its peers.

    python tools/benchmark.py [CONFIG] [--img-size 256] [--batch-size 32] [--iters 10]
    python tools/benchmark.py --compare [--peers qbheat mocov2 qbheat_r50 spark mae]
                              [--img-size 256] [--batch-size 8] [--rounds 5]
                              [--optimizer plain|foreach|fused] [--channels-last]
                              [--compile] [--amp bf16]
    python tools/benchmark.py --compare --scaling [--sizes 128 256 384]
                              [--batch-sizes 8 16] [--peers qbheat mocov2]

Without ``--compare``: milliseconds per forward + backward of the whole step, of the
encoder on the visible quarter and on the full image, of the heat neck and of the decoder,
and the ratios that matter. With ``--compare``: one training step (forward, backward,
AdamW) of every peer, timed in interleaved rounds in this one process, as a Markdown table
with images/s, the ratio to QB-Heat, QB-Heat's encoder floor and the memory of a step;
``--scaling`` repeats it over image sizes and batch sizes. ``--json`` saves everything
with the setting.
"""
from __future__ import annotations

import argparse
import json

import torch
from mmengine.config import DictAction

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.apis.benchmark import OPTIMIZER_IMPLS, PEERS, compare_peers, scaling_table
from qbheat_mm.utils.benchmark import benchmark_qbheat
from qbheat_mm.apis import init_model
from qbheat_mm.utils.collect_env import collect_env

AMP_DTYPES = dict(bf16=torch.bfloat16, fp16=torch.float16)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default='configs/qbheat_mobileformer_in1k.py',
                        help='QB-Heat config of the parts benchmark (not used by --compare)')
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=None,
                        help='images per step (default 32; 8 with --compare)')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', help='also write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    compare = parser.add_argument_group('peer comparison')
    compare.add_argument('--compare', action='store_true',
                         help='time QB-Heat against its peers, side by side')
    compare.add_argument('--peers', nargs='+', choices=sorted(PEERS), default=list(PEERS))
    compare.add_argument('--rounds', type=int, default=5, help='interleaved timed rounds')
    compare.add_argument('--optimizer', choices=OPTIMIZER_IMPLS, default='plain',
                         help='AdamW implementation of every step')
    compare.add_argument('--channels-last', action='store_true')
    compare.add_argument('--compile', action='store_true', help='torch.compile the loss')
    compare.add_argument('--amp', choices=sorted(AMP_DTYPES),
                         help='autocast dtype (changes the arithmetic: say so)')
    compare.add_argument('--scaling', action='store_true',
                         help='repeat the comparison over --sizes x --batch-sizes')
    compare.add_argument('--sizes', nargs='+', type=int, default=[128, 256, 384])
    compare.add_argument('--batch-sizes', nargs='+', type=int, default=[8, 16])
    return parser.parse_args(argv)


def _setting(args: argparse.Namespace) -> dict:
    env = collect_env()
    return dict(device=args.device, torch=env['torch'], threads=env['torch threads'],
                gpus=env.get('GPUs'))


def _fmt(value, spec: str) -> str:
    return '-' if value is None else format(value, spec)


def comparison_table(result: dict) -> str:
    """The comparison as a Markdown table (ratios: the peer's time over QB-Heat's)."""
    lines = ['| | backbone | ms per step | images/s | / QB-Heat | / QB-Heat, paired '
             '| step memory (MiB) | weights + grads + AdamW (MiB) |',
             '|---|---|---|---|---|---|---|---|']
    for name, row in result['rows'].items():
        lines.append(f'| {row["label"]} | {row["backbone"]} | {row["ms"]:.0f} | '
                     f'{_fmt(row["images_per_s"], ".1f")} | {row["ratio_to_qbheat"]:.2f}x | '
                     f'{row["paired_ratio_to_qbheat"]:.2f}x | '
                     f'{_fmt(row.get("step_memory_mb"), ".0f")} | '
                     f'{_fmt(row.get("state_mb"), ".0f")} |')
    notes = []
    for name, s in result['summary']['variants'].items():
        label = result['rows'][name]['label']
        notes.append(f'{label}: step / encoder floor = {s["step_over_floor"]:.2f} '
                     f'(paired {s["paired_step_over_floor"]:.2f})')
        if 'mocov2_over_qbheat' in s:
            notes.append(f'MoCo-v2 / {label} = {s["mocov2_over_qbheat"]:.2f} '
                         f'(paired {s["paired_mocov2_over_qbheat"]:.2f})')
        if 'neck_decoder_share' in s:
            notes.append(f'{label}: neck + decoder = {100 * s["neck_decoder_share"]:.1f} % '
                         f'of the step (paired {100 * s["paired_neck_decoder_share"]:.1f} %)')
    return '\n'.join(lines) + '\n\n' + '\n'.join(f'- {n}' for n in notes)


def scaling_markdown(table: list[dict]) -> str:
    """The scaling grid as a Markdown table: ms per step, and each peer / QB-Heat (paired
    ratios in parentheses)."""
    names = [n for n in table[0]['rows'] if n != 'floor']
    head = ' | '.join(f'{n} ms' for n in names)
    lines = [f'| image | batch | {head} | floor ms | step / floor | '
             + ' | '.join(f'{n} / qbheat' for n in names if n != 'qbheat') + ' |',
             '|' + '---|' * (4 + 2 * len(names) - 1)]
    for entry in table:
        rows = entry['rows']
        cells = [f'{rows[n]["ms"]:.0f}' for n in names]
        ratios = [f'{rows[n]["ratio_to_qbheat"]:.2f}x ({rows[n]["paired_ratio_to_qbheat"]:.2f}x)'
                  for n in names if n != 'qbheat']
        s = entry['summary']
        lines.append(f'| {entry["img_size"]} | {entry["batch_size"]} | ' + ' | '.join(cells)
                     + f' | {rows["floor"]["ms"]:.0f} | {s["step_over_floor"]:.2f} '
                     f'({s["paired_step_over_floor"]:.2f}) | ' + ' | '.join(ratios) + ' |')
    return '\n'.join(lines)


def run_compare(args: argparse.Namespace) -> dict:
    options = dict(optimizer_impl=args.optimizer, channels_last=args.channels_last,
                   compile=args.compile, amp_dtype=AMP_DTYPES.get(args.amp))
    batch_size = args.batch_size or 8
    if args.scaling:
        table = scaling_table(args.peers, args.sizes, args.batch_sizes, rounds=args.rounds,
                              warmup=1, device=args.device, **options)
        print(scaling_markdown(table))
        return dict(scaling=table, setting=dict(_setting(args), rounds=args.rounds,
                                                **{k: str(v) for k, v in options.items()}))
    result = compare_peers(args.peers, args.img_size, batch_size, rounds=args.rounds,
                           warmup=1, device=args.device, **options)
    result['setting'].update(_setting(args))
    print(f'{batch_size} x 3 x {args.img_size} x {args.img_size} | {args.device} | '
          f'{args.rounds} interleaved rounds, medians | AdamW {args.optimizer}')
    print(comparison_table(result))
    return result


def run_parts(args: argparse.Namespace) -> dict:
    batch_size = args.batch_size or 32
    model = init_model(args.config, device=args.device, cfg_options=args.cfg_options).train()
    result = benchmark_qbheat(model, args.img_size, batch_size, args.iters, args.warmup)
    result['setting'] = dict(_setting(args), config=args.config, img_size=args.img_size,
                             batch_size=batch_size)
    print(f'{args.config} | {batch_size} x 3 x {args.img_size} x {args.img_size} | '
          f'{args.device}')
    for key in ('step', 'encoder_quarter', 'encoder_full', 'neck', 'decoder'):
        print(f'  {key:<16} {result[key]:10.2f} ms (forward + backward)')
    print(f'  encoder quarter / full image : {result["encoder_quarter_over_full"]:.3f}')
    print(f'  neck + decoder share of step : '
          f'{100 * result["neck_decoder_share_of_step"]:.2f} %')
    print(f'  throughput                   : {result["images_per_s"]:.1f} images/s')
    if result['peak_memory_mb'] is not None:
        print(f'  peak memory of a step        : {result["peak_memory_mb"]:.0f} MiB')
    return result


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    result = run_compare(args) if args.compare else run_parts(args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
