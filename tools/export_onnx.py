"""Export the backbone of a config to ONNX and check it against PyTorch with onnxruntime.

    python tools/export_onnx.py CONFIG OUT.onnx [--checkpoint CKPT] [--shape H W]
                                [--cfg-options k=v ...]

The backbone is ``cfg.model.backbone`` (any MMPretrain or MMDetection config of this
project), loaded strictly from ``--checkpoint`` (a full pre-training checkpoint or an
extracted backbone; safe loading applies) or left at its initialisation. Its outputs
(one per ``out_indices`` entry) become ``out0`` ...; the tool prints the max absolute
difference of each against PyTorch on a random input and exits 1 above ``--atol``.
Needs ``pip install -e .[export]``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional

import torch

from qbheat_mm.apis import init_model
from qbheat_mm.engine.cli import add_cfg_options
from qbheat_mm.utils.onnx_export import export_onnx, max_abs_differences


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument('--checkpoint', help='backbone weights (default: initialisation)')
    parser.add_argument('--shape', nargs=2, type=int, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest accepted difference to PyTorch (default 1e-4)')
    add_cfg_options(parser, example='model.backbone.out_indices="(1,2,3,4)"')
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    backbone = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options,
                          backbone_only=True)
    if args.checkpoint:
        keys = len(backbone.state_dict())  # strict: every key or an error
        print(f'loaded {keys}/{keys} backbone keys from {args.checkpoint}')
    shape = (1, 3, *args.shape)
    names = export_onnx(backbone, args.out, shape)
    torch.manual_seed(0)
    diffs = max_abs_differences(backbone, args.out, torch.randn(*shape))
    for name, diff in zip(names, diffs):
        print(f'{name}: max abs difference to PyTorch {diff:.3g}')
    worst = max(diffs)
    print(f'wrote {args.out}; onnxruntime vs PyTorch max abs difference {worst:.3g} '
          f'(atol {args.atol:g})')
    return 0 if worst <= args.atol else 1


if __name__ == '__main__':
    sys.exit(main())
