"""Generated classification sets: written once, atomically, in MMPretrain's folder layout.

A generator writes ``root/<split>/<class>/<k>.png`` and ``root/meta/<split>.txt``
(``filename label`` lines) into a temporary folder next to ``root``; the folder is renamed
to ``root`` with ``meta/settings.json`` last, so an interrupted or concurrent run never
leaves half a set. A ``root`` generated with other settings raises a ``ValueError``.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict, List

from mmpretrain.datasets import CustomDataset

SPLITS = ('train', 'val')


def generate_once(root: str, settings: dict, kind: str,
                  write: Callable[[str], Dict[str, List[str]]]) -> str:
    """Run ``write(folder)`` unless ``root`` already holds the set made with ``settings``.

    ``write`` fills ``folder`` with the images and returns the annotation lines of each
    split; this function writes ``meta/`` and publishes the folder as ``root``.
    """
    settings_file = osp.join(root, 'meta', 'settings.json')
    if osp.isfile(settings_file):
        with open(settings_file) as f:
            existing = json.load(f)
        if existing != settings:
            raise ValueError(f'{root} holds a {kind} dataset generated with {existing}, not '
                             f'{settings}; delete {root} or choose another root')
        return root
    if osp.isdir(root) and os.listdir(root):
        raise ValueError(f'{root} exists but is not a generated {kind} dataset (no '
                         'meta/settings.json); delete it or choose another root')
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{kind.replace(' ', '_')}-", dir=parent)
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the set is not
        lines = write(tmp)
        os.makedirs(osp.join(tmp, 'meta'))
        for split in SPLITS:
            with open(osp.join(tmp, 'meta', f'{split}.txt'), 'w') as f:
                f.write('\n'.join(lines[split]) + '\n')
        with open(osp.join(tmp, 'meta', 'settings.json'), 'w') as f:
            json.dump(settings, f, indent=1)
        try:
            if osp.isdir(root):
                os.rmdir(root)  # empty (checked above)
            os.rename(tmp, root)
        except OSError:
            if not osp.isfile(settings_file):  # nobody else published it first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


class GeneratedSplitDataset(CustomDataset):
    """A :class:`CustomDataset` over one split of a set that ``prepare`` generates."""

    def __init__(self, data_root: str, split: str, prepare: Callable[..., str],
                 settings: dict, **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        prepare(data_root, **settings)
        super().__init__(data_root=data_root, ann_file=f'meta/{split}.txt',
                         data_prefix=split, **kwargs)
