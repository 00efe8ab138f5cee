"""A named stop for an ImageNet folder MMPretrain cannot read, before it builds the dataset.

MMPretrain's ``ImageNet`` reads ``DATA_ROOT/SPLIT/`` with the annotation file
``DATA_ROOT/meta/SPLIT.txt`` (``relative/path.JPEG label`` per line), or, without one,
one subfolder per class of ``DATA_ROOT/SPLIT/``, all 1000 of them. Any other folder ends in
an assertion ("The number of subfolders (2) doesn't match the number of specified
classes (1000)") or in "Found 0 files" for the ILSVRC validation folder, which is flat;
neither names the layout or the way to the meta files. :func:`check_imagenet_layout`
does, for every dataset of type ``ImageNet`` in a config (the project's tools run it).
"""
from __future__ import annotations

import os
import os.path as osp

__all__ = ['ImageNetLayoutError', 'check_imagenet_layout', 'check_config_imagenet_layouts']

NUM_CLASSES = 1000
LAYOUT = ('MMPretrain reads DATA_ROOT/SPLIT/ with DATA_ROOT/meta/SPLIT.txt, one '
          '"relative/path label" line per image (labels 0-999 in the order of the sorted '
          'WordNet ids, mmpretrain.datasets.categories.IMAGENET_CATEGORIES), or, without '
          'it, DATA_ROOT/SPLIT/ holding one subfolder per class, all 1000. '
          'docs/en/user_guides/datasets.md shows how to write the meta files (the '
          "validation labels come from ILSVRC2012's ground truth); a subset of the classes "
          "is a dataset of type 'CustomDataset' (any number of class folders).")


class ImageNetLayoutError(ValueError):
    """An ImageNet folder that MMPretrain's ``ImageNet`` cannot read."""


def check_imagenet_layout(dataset: dict) -> None:
    """Raise :class:`ImageNetLayoutError` naming the folder, what it holds and the layout
    MMPretrain expects, unless ``dataset`` (an ``ImageNet`` dataset dict) can be read.
    Remote roots (``s3://``, ...) are not checked."""
    root = dataset.get('data_root', '')
    split = dataset.get('split', '')
    if '://' in root or not split:
        return
    if dataset.get('ann_file'):
        ann = dataset['ann_file']
        ann = ann if osp.isabs(ann) else osp.join(root, ann)
        if not osp.isfile(ann):
            raise ImageNetLayoutError(f'ImageNet ann_file {ann} does not exist. {LAYOUT}')
        return
    if osp.isfile(osp.join(root, 'meta', f'{split}.txt')):
        return
    prefix = dataset.get('data_prefix') or split
    prefix = prefix.get('img_path', split) if isinstance(prefix, dict) else prefix
    folder = osp.join(root, prefix)
    if not osp.isdir(folder):
        raise ImageNetLayoutError(f'the ImageNet {split} folder {folder} does not exist (and '
                                  f'there is no {osp.join(root, "meta", split + ".txt")}). '
                                  f'{LAYOUT}')
    entries = os.listdir(folder)
    classes = [e for e in entries if osp.isdir(osp.join(folder, e))]
    if len(classes) != NUM_CLASSES:
        holds = (f'{len(classes)} class subfolders' if classes
                 else f'{len(entries)} files and no class subfolders (the flat ILSVRC '
                 'validation layout)')
        raise ImageNetLayoutError(
            f'{folder} holds {holds} and {osp.join(root, "meta", split + ".txt")} does not '
            f'exist. {LAYOUT}')


def check_config_imagenet_layouts(
        cfg, dataloaders=('train_dataloader', 'val_dataloader', 'test_dataloader')) -> None:
    """:func:`check_imagenet_layout` on the dataset of each of ``dataloaders`` of ``cfg``
    whose type is ``ImageNet`` (through dataset wrappers)."""
    for key in dataloaders:
        dataset = (cfg.get(key) or {}).get('dataset')
        while isinstance(dataset, dict) and 'dataset' in dataset:
            dataset = dataset['dataset']
        if isinstance(dataset, dict) and str(dataset.get('type', '')).split('.')[-1] == 'ImageNet':
            check_imagenet_layout(dataset)
