"""Read every image of a config's datasets before a long run; list the unreadable ones.

    python tools/check_dataset.py CONFIG [--splits train val test] [--cfg-options k=v ...]

Builds each ``<split>_dataloader.dataset`` of the config without its pipeline and reads
every image completely: missing, empty, non-image and truncated files are listed with the
reason (a truncated JPEG decodes silently in cv2, so PIL's full decode judges). Exit
status 0 when every image is readable, 1 otherwise. MMPretrain's
``tools/misc/verify_dataset.py`` checks the training set only and with cv2's decoder,
which passes truncated files.
"""
from __future__ import annotations

import argparse
import copy
import sys
from typing import Optional

from mmengine.registry import DATASETS, init_default_scope

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.datasets import check_dataset
from qbheat_mm.engine.cli import add_cfg_options, read_config


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'],
                        help='dataloaders to check (those the config lacks are skipped)')
    add_cfg_options(parser, example='train_dataloader.dataset.data_root=data/imagenet')
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    cfg = read_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    datasets = {}
    for split in args.splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        dataset_cfg = copy.deepcopy(loader['dataset'])
        dataset_cfg['pipeline'] = []
        datasets[split] = DATASETS.build(dataset_cfg)
    counts, bad = check_dataset(datasets)
    for item in bad:
        print(f'{item.split}: {item.filename}: {item.reason}')
    summary = ', '.join(f'{split} {n} images' for split, n in counts.items())
    if bad:
        print(f'check_dataset: {len(bad)} unreadable image(s) in {args.config} ({summary})',
              file=sys.stderr)
        return 1
    print(f'check_dataset: every image is readable ({summary})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
