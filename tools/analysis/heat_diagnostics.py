"""Heat-operator diagnostics of a backbone: is its feature map linear in QB-Heat's sense?

    python tools/analysis/heat_diagnostics.py CONFIG CHECKPOINT [IMAGE ...] --out-dir DIR
    python tools/analysis/heat_diagnostics.py CONFIG --random-init [IMAGE ...] --out-dir DIR
        [--img-size 256] [--allow-pickle] [--prefix auto] [--operator-step N] [--seed 0]

Works for any config whose model has a ``backbone`` ending in an N x C x h x w map
(QB-Heat, MoCo-v2, a classifier or probe) and any checkpoint of it (a full checkpoint
with ``backbone.*`` keys or an extracted backbone). When the config has a
``HeatExtrapolationNeck`` and the checkpoint holds ``neck.A`` and ``neck.B``, the learned
operator is measured too. ``--random-init`` (instead of CHECKPOINT) measures a randomly
initialised backbone, the control; a checkpoint is never silently left out.

Images: the given files, or by default the demo validation images (``data/demo/``,
generated on first use); each is resized and centre-cropped to ``--img-size`` (256 px:
an 8 x 8 map at stride 32). Even-indexed images fit the linear maps, odd ones are scored.
See :mod:`qbheat_mm.analysis.heat_diagnostics` for what is measured.

Checkpoints are read as by every tool (``qbheat_mm.compat.safe_torch_load``): tensors and
what the Runner's training checkpoints hold load without running code from the file; a
file holding anything else stops, naming the type, unless ``--allow-pickle`` (for files
you trust). ``tools/model_converters/extract_backbone.py CKPT OUT --prefix ""`` writes a
tensors-only copy (neck kept) for sharing. Written to DIR: ``report.md``, ``report.json``,
``linearity.png``, ``extrapolation.png`` and, with an operator, ``spectra.png``.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

import torch

from qbheat_mm import compat
from qbheat_mm.analysis import heat_diagnostics as hd
from qbheat_mm.analysis import heat_inputs as hi
from qbheat_mm.engine.cli import add_allow_pickle, add_cfg_options
from qbheat_mm.analysis.heat_report import write_report
from qbheat_mm.apis import init_model

DEFAULT_IMG_SIZE = 256
DEFAULT_DEMO_ROOT = 'data/demo'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config whose model has a backbone')
    parser.add_argument('inputs', nargs='*', metavar='CHECKPOINT | IMAGE',
                        help='the checkpoint (unless --random-init), then image files '
                        f'(default: the demo val images under {DEFAULT_DEMO_ROOT}/)')
    parser.add_argument('--out-dir', required=True, help='folder for the report and plots')
    parser.add_argument('--random-init', action='store_true',
                        help='no checkpoint: a randomly initialised backbone (the control)')
    add_allow_pickle(parser)
    parser.add_argument('--prefix', default='auto',
                        help="prefix of the backbone keys (default 'auto': 'backbone.' when "
                        'present, else none)')
    parser.add_argument('--img-size', type=int, default=DEFAULT_IMG_SIZE,
                        help=f'square input size in px (default {DEFAULT_IMG_SIZE})')
    parser.add_argument('--operator-step', type=int, default=None,
                        help='cells one step of A or B covers (default: 1 for recursive and '
                        'finola; for block the quarter side at the config\'s training size)')
    parser.add_argument('--demo-root', default=DEFAULT_DEMO_ROOT,
                        help='where the default demo images live')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0, help='seed of --random-init')
    parser.add_argument('--device', default='cpu', help='torch device')
    add_cfg_options(parser)
    args = parser.parse_intermixed_args(argv)  # images may follow --random-init
    if args.random_init:
        args.checkpoint = None
        if args.inputs and args.inputs[0].endswith(('.pth', '.pt', '.ckpt')):
            parser.error(f'--random-init takes no checkpoint, got {args.inputs[0]}')
        args.images = args.inputs
    else:
        if not args.inputs:
            parser.error('give a CHECKPOINT, or --random-init for a random backbone')
        args.checkpoint, args.images = args.inputs[0], args.inputs[1:]
    return args


def main(argv: list[str] | None = None) -> hd.Diagnostics:
    args = parse_args(argv)
    options = dict(args.cfg_options or {})
    if args.random_init:
        # A probe config's StrictPretrained would (rightly) refuse to run without a file.
        options['model.backbone.init_cfg'] = None
        torch.manual_seed(args.seed)
    model = init_model(args.config, cfg_options=options)
    cfg = model.cfg

    meta = dict(config=args.config, img_size=args.img_size)
    if args.random_init:
        hi.random_init(model.backbone)
        meta.update(checkpoint=None, weights=f'random init (seed {args.seed})',
                    operator='none: random init')
    else:
        if args.allow_pickle:
            compat.allow_pickle()
        checkpoint = hi.read_checkpoint(args.checkpoint)
        info = hi.load_weights(model, checkpoint, args.prefix)
        meta.update(checkpoint=args.checkpoint, weights=f'{info["backbone_keys"]} backbone '
                    f'keys from prefix {info["prefix"]!r}', operator=info['operator'])

    operator = None
    if meta['operator'] == 'loaded':
        step = args.operator_step or hi.operator_step(
            model.neck.mode, hi.train_img_size(cfg), getattr(model, 'encoder_stride', 32))
        operator = hi.heat_operator(model, step)

    images = args.images or hi.demo_val_images(args.demo_root)
    maps = hi.feature_maps(model, images, args.img_size, args.batch_size, args.device)
    diag = hd.diagnose(maps, operator)
    diag.summary['meta'] = dict(meta, images=[osp.relpath(p) for p in images])
    for path in write_report(diag, args.out_dir):
        print(f'wrote {path}')
    return diag


if __name__ == '__main__':
    try:
        main()
    except (ValueError, hd.CheckpointMismatchError) as error:
        print(f'heat_diagnostics: {error}', file=sys.stderr)
        sys.exit(1)
