"""Draw QB-Heat reconstructions of images: one five-panel PNG per image.

    python tools/visualize_reconstruction.py CONFIG CHECKPOINT IMAGE [IMAGE ...] \
        --out-dir DIR [--img-size N] [--device cpu|cuda]

Panels: original | visible quarter (masked quarters grey) | reconstruction (from the
visible quarter alone; with norm_pix, cells de-normalised with the model's own predicted
mean and std) | reconstruction with the visible quarter pasted back | per-pixel error map
(mean absolute error, fixed colour scale).
Each image is resized (shorter side) and centre-cropped to the model's input size.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp

from mmengine.config import Config

from qbheat_mm import compat
from qbheat_mm.apis import draw_reconstruction_panel, init_model, reconstruct, save_rgb

DEFAULT_IMG_SIZE = 256


def config_img_size(cfg: Config) -> int:
    """The square input size the config trains / validates at (CenterCrop, else the
    training RandomResizedCrop), or ``DEFAULT_IMG_SIZE``."""
    loaders = [cfg.get('val_dataloader'), cfg.get('train_dataloader')]
    for loader in loaders:
        pipeline = (loader or {}).get('dataset', {}).get('pipeline', [])
        for t in pipeline:
            if t.get('type') == 'CenterCrop':
                return int(t['crop_size'])
            if t.get('type') == 'RandomResizedCrop':
                return int(t['scale'])
    return DEFAULT_IMG_SIZE


def output_name(image: str, taken: set) -> str:
    """``<stem>.png``, or ``<parent>_<stem>.png`` (then ``_<n>``) when already taken."""
    stem = osp.splitext(osp.basename(image))[0]
    candidates = [stem, f'{osp.basename(osp.dirname(osp.abspath(image)))}_{stem}']
    candidates += [f'{candidates[1]}_{n}' for n in range(1, len(taken) + 2)]
    name = next(c + '.png' for c in candidates if c + '.png' not in taken)
    taken.add(name)
    return name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Visualise QB-Heat reconstructions')
    parser.add_argument('config', help='QB-Heat config file')
    parser.add_argument('checkpoint', help='checkpoint of the whole model (loaded strictly; '
                        'no code from it runs unless --allow-pickle)')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out-dir', required=True, help='folder for the PNGs')
    parser.add_argument('--img-size', type=int, default=None,
                        help='input size (default: from the config)')
    parser.add_argument('--device', default='cpu', help='torch device')
    parser.add_argument('--allow-pickle', action='store_true',
                        help='fully unpickle a checkpoint you trust that holds other types')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[str]:
    args = parse_args(argv)
    if args.allow_pickle:
        compat.allow_pickle()
    model = init_model(args.config, args.checkpoint, device=args.device)
    img_size = args.img_size or config_img_size(model.cfg)

    os.makedirs(args.out_dir, exist_ok=True)
    written, taken = [], set()
    for image in args.images:
        panel = draw_reconstruction_panel(reconstruct(model, image, img_size=img_size))
        out = osp.join(args.out_dir, output_name(image, taken))
        save_rgb(out, panel)
        written.append(out)
        print(f'{image} -> {out}')
    return written


if __name__ == '__main__':
    main()
