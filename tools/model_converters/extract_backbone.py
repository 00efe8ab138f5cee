"""Extract the backbone weights of a pre-training checkpoint as a plain state dict.

    python tools/model_converters/extract_backbone.py CKPT OUT [--prefix backbone.]
                                                      [--allow-pickle]

The output holds tensors only (keys without the prefix), loads with
``torch.load(OUT, weights_only=True)`` and is what a probe or detector config points
``init_cfg=dict(type='StrictPretrained', checkpoint=OUT)`` at. Exits with status 1 and a
message naming what the checkpoint holds when no key carries the prefix. The input is
read with qbheat_mm's safe loader (``weights_only=True`` and MMEngine's checkpoint types);
``--allow-pickle`` fully unpickles a file you trust.
"""
import argparse
import sys
from typing import Optional

import qbheat_mm  # noqa: F401  (safe checkpoint loading for torch >= 2.6)
from qbheat_mm import compat
from qbheat_mm.utils.checkpoint import CheckpointMismatchError, save_backbone_state_dict
from qbheat_mm.engine.cli import add_allow_pickle


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('checkpoint', help='full pre-training checkpoint')
    parser.add_argument('out', help='output path of the plain backbone state dict')
    parser.add_argument('--prefix', default='backbone.',
                        help="prefix of the backbone keys (default 'backbone.'; "
                             "'auto' also accepts an already extracted state dict)")
    add_allow_pickle(parser)
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.allow_pickle:
        compat.allow_pickle()
    try:
        count, prefix = save_backbone_state_dict(args.checkpoint, args.out, args.prefix)
    except compat.UnsafeCheckpointError as error:
        print(f'extract_backbone: {error}', file=sys.stderr)
        return 1
    except CheckpointMismatchError as error:
        print(f'extract_backbone: {args.checkpoint} holds no backbone weights: {error}',
              file=sys.stderr)
        return 1
    print(f'kept {count} keys from prefix {prefix!r} of {args.checkpoint}; wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
