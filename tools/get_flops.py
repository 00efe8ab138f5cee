"""Parameters and FLOPs of a config's model, counted with MMEngine's FlopAnalyzer.

    python tools/get_flops.py CONFIG [--shape H W] [--cfg-options key=value ...]

The model runs once on a 1 x 3 x H x W input in 'tensor' mode (for an ImageClassifier:
backbone, neck and head). FLOPs are multiply-adds (one multiply-add = one FLOP), the
convention of the published MobileNet and Mobile-Former numbers:

- counted: convolutions, linear layers and matrix products (so attention's q @ k and
  attn @ v) as traced by FlopAnalyzer, plus the two multiplies per element of every
  Mobile-Former dynamic ReLU (``max(a1 x, a2 x)``), which FlopAnalyzer skips as
  element-wise and which we add with forward hooks;
- reported, not counted: what FlopAnalyzer counts beyond multiply-adds by default
  (BatchNorm, which folds into the conv before it at inference, LayerNorm, pooling);
- skipped by the counter: the remaining element-wise ops (activations, residual additions,
  softmax, the bridge gate), listed with how often they ran.
"""
import argparse
from typing import Optional

import torch
from mmengine.analysis import FlopAnalyzer
from torch import nn

from qbheat_mm.models.backbones.mobile_former_blocks import DyReLU
from qbheat_mm.apis import init_model
from qbheat_mm.engine.cli import add_cfg_options

# Operators FlopAnalyzer counts by default that are not multiply-adds.
NOT_MULTIPLY_ADDS = ('batch_norm', 'group_norm', 'layer_norm', 'instance_norm',
                     'adaptive_avg_pool2d', 'upsample_nearest2d', 'upsample_bilinear2d',
                     'grid_sampler')


def dyrelu_multiplies(model: nn.Module, inputs: torch.Tensor) -> int:
    """Two multiplies per output element of every :class:`DyReLU` (one forward pass)."""
    total = 0

    def count(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        nonlocal total
        total += 2 * output.numel()

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, DyReLU)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def analyze(model: nn.Module, shape: tuple[int, int]) -> dict:
    """Count the parameters and FLOPs of ``model`` on one ``3 x H x W`` image.

    Returns:
        dict: ``params`` (total), ``params_by_part`` (top-level children), ``flops``
        (multiply-adds, see the module docstring), ``counted`` and ``not_counted``
        (operator -> FLOPs) and ``skipped`` (operator -> number of calls).
    """
    model.eval()
    inputs = torch.randn(1, 3, *shape)
    analyzer = FlopAnalyzer(model, (inputs, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    by_operator = dict(analyzer.by_operator())
    counted = {k: v for k, v in by_operator.items() if k not in NOT_MULTIPLY_ADDS}
    counted['DyReLU multiplies'] = dyrelu_multiplies(model, inputs)
    return dict(
        params=sum(p.numel() for p in model.parameters()),
        params_by_part={
            name: sum(p.numel() for p in child.parameters())
            for name, child in model.named_children()
        },
        flops=sum(counted.values()),
        counted=counted,
        not_counted={k: v for k, v in by_operator.items() if k in NOT_MULTIPLY_ADDS},
        skipped=dict(analyzer.unsupported_ops()))


def _m(value: int) -> str:
    return f'{value / 1e6:.2f}M'


def report(result: dict, shape: tuple[int, int]) -> str:
    """Human-readable summary of :func:`analyze`."""
    parts = ', '.join(f'{k} {v:,}' for k, v in result['params_by_part'].items() if v)
    lines = [
        f'input: 1 x 3 x {shape[0]} x {shape[1]}',
        f'params: {result["params"]:,} ({_m(result["params"])}) [{parts}]',
        f'FLOPs (multiply-adds): {_m(result["flops"])} '
        f'({result["flops"] / 1e9:.3f} G)',
        '  counted: ' + ', '.join(f'{k} {_m(v)}' for k, v in result['counted'].items()),
        '  not counted (not multiply-adds; BN folds into the conv at inference): ' +
        (', '.join(f'{k} {_m(v)}' for k, v in result['not_counted'].items()) or 'none'),
        '  skipped by the counter (element-wise): ' +
        (', '.join(f'{k} x{n}' for k, n in result['skipped'].items()) or 'none'),
    ]
    return '\n'.join(lines)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224],
                        metavar=('H', 'W'), help='input size (default 224 224)')
    add_cfg_options(parser, example='model.backbone.arch=26m')
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    shape = tuple(args.shape)
    if min(shape) <= 0:
        raise ValueError(f'--shape must be two positive sizes H W, got {shape}')
    model = init_model(args.config, cfg_options=args.cfg_options)
    print(f'config: {args.config}')
    print(report(analyze(model, shape), shape))


if __name__ == '__main__':
    main()
