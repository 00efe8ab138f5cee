"""Each speed option of a QB-Heat training step against the plain step, side by side.

    python tools/benchmark_speed_options.py [CONFIG] [--img-size 256] [--batch-size 8]
                                            [--rounds 5] [--compile] [--amp bf16]
                                            [--device cpu|cuda] [--json OUT.json]

Every variant is its own copy of the same model (same seed, same weights) on the same
batch, and one step of each (forward, backward, AdamW) is timed per round, interleaved.
The variants: ``plain`` (the default path: AdamW's single-tensor loop), ``decode every
quarter`` (the path before the decoder skipped the visible quarter of a masked loss),
``foreach AdamW``, ``fused AdamW``, ``channels-last`` and, on request, ``torch.compile``
and autocast. The table gives each variant's median, its speed-up over ``plain`` (of the
medians, and paired: the median over rounds of plain's time / the variant's in the same
round) and the relative difference of its first loss from the plain one: every option but
autocast computes the same step, so that difference must be float rounding (it is checked).
"""
from __future__ import annotations

import argparse
import json

import torch
from mmengine.config import DictAction

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.apis.benchmark import paired_ratio, peer_step
from qbheat_mm.utils.benchmark import time_interleaved
from qbheat_mm.apis import init_model
from qbheat_mm.utils.collect_env import collect_env

AMP_DTYPES = dict(bf16=torch.bfloat16, fp16=torch.float16)
#: Largest relative loss difference from the plain step that still counts as rounding.
SAME_LOSS_RTOL = 1e-4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default='configs/qbheat_mobileformer_in1k.py')
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--compile', action='store_true',
                        help='add torch.compile (inductor; compiling takes minutes on a CPU)')
    parser.add_argument('--amp', choices=sorted(AMP_DTYPES),
                        help='add autocast in this dtype (changes the arithmetic)')
    parser.add_argument('--json', help='also write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def variants(args: argparse.Namespace) -> dict[str, dict]:
    """Name -> keyword arguments of :func:`peer_step` (``decode_all`` handled apart)."""
    table = {
        'plain': dict(),
        'decode every quarter': dict(decode_all=True),
        'foreach AdamW': dict(optimizer_impl='foreach'),
        'fused AdamW': dict(optimizer_impl='fused'),
        'channels-last': dict(channels_last=True),
    }
    if args.compile:
        table['torch.compile'] = dict(compile=True)
    if args.amp:
        table[f'autocast {args.amp}'] = dict(amp_dtype=AMP_DTYPES[args.amp])
    return table


def _build(args: argparse.Namespace) -> torch.nn.Module:
    torch.manual_seed(0)
    return init_model(args.config, device=args.device, cfg_options=args.cfg_options).train()


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(1)
    x = torch.randn(args.batch_size, 3, args.img_size, args.img_size, device=device)
    steps, first_loss = {}, {}
    for name, options in variants(args).items():
        model = _build(args)
        loss_fn = None
        if options.pop('decode_all', False):
            def loss_fn(model=model):
                cells = model.decoder(model.neck(model.encode_visible(x)), decode_visible=True)
                return model.head.loss(cells, x)
        steps[name] = peer_step(model, 'qbheat', x, loss_fn=loss_fn, **options)
        first_loss[name] = float(steps[name]())  # also the warm-up (and compilation)
    timings = time_interleaved(steps, device, args.rounds, warmup=0)
    ref_ms, ref_loss = timings['plain']['median_ms'], first_loss['plain']
    ref_times = timings['plain']['times_ms']
    rows = {}
    for name, timing in timings.items():
        loss_diff = abs(first_loss[name] - ref_loss) / abs(ref_loss)
        rows[name] = dict(ms=timing['median_ms'], times_ms=timing['times_ms'],
                          speedup=ref_ms / timing['median_ms'],
                          paired_speedup=paired_ratio(ref_times, timing['times_ms']),
                          first_loss=first_loss[name],
                          loss_rel_diff=loss_diff,
                          same_loss=name.startswith('autocast') or loss_diff <= SAME_LOSS_RTOL)
    env = collect_env()
    print(f'{args.config} | {args.batch_size} x 3 x {args.img_size} x {args.img_size} | '
          f'{args.device} | torch {env["torch"]}, {env["torch threads"]} threads | '
          f'{args.rounds} interleaved rounds, medians')
    print('| variant | ms per step | speed-up over plain | paired | first loss, rel. diff |')
    print('|---|---|---|---|---|')
    for name, row in rows.items():
        print(f'| {name} | {row["ms"]:.0f} | {row["speedup"]:.2f}x | '
              f'{row["paired_speedup"]:.2f}x | {row["loss_rel_diff"]:.1e} |')
    result = dict(setting=dict(config=args.config, img_size=args.img_size,
                               batch_size=args.batch_size, rounds=args.rounds,
                               device=args.device, torch=env['torch'],
                               threads=env['torch threads']), rows=rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    bad = [name for name, row in rows.items() if not row['same_loss']]
    if bad:
        raise SystemExit(f'{", ".join(bad)}: first loss differs from the plain step by more '
                         f'than {SAME_LOSS_RTOL:g} (relative)')
    return result


if __name__ == '__main__':
    main()
