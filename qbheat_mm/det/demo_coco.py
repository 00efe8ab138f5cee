"""A small COCO-format detection set made from the photographs bundled with scikit-image.

Objects are fixed crops of four photographs (a cat's face, a coffee cup, an astronaut's
head, a motorcycle), pasted without overlap at random positions and scales onto random
crops of other bundled photographs (bricks, grass, gravel, galaxies, tissue, the moon,
coins, a launch pad at night). Pasted rectangles are the boxes, so the boxes are exact.
Nothing is downloaded; the same settings always give the same bytes.

Layout written under ``root`` (MMDetection's COCO layout with split names)::

    annotations/instances_train.json   annotations/instances_val.json
    train/000001.png ...               val/000001.png ...
"""
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log

from qbheat_mm.datasets.bundled_photos import load_object, load_photo

# The four objects: crops of bundled photographs (the boxes: qbheat_mm.datasets.bundled_photos).
DEMO_CLASSES: Tuple[str, ...] = ('cat', 'coffee cup', 'astronaut', 'motorcycle')
DEMO_BACKGROUNDS: Tuple[str, ...] = ('brick', 'grass', 'gravel', 'hubble_deep_field',
                                     'immunohistochemistry', 'moon', 'coins', 'rocket')
DEMO_SPLITS = ('train', 'val')
DEFAULT_SETTINGS = dict(num_train=200, num_val=50, image_size=(128, 160),
                        object_size=(32, 80), max_objects=3, seed=0)
# Bumped whenever the generator's output changes for the same settings.
GENERATOR_VERSION = 1


def demo_ann_file(root: Union[str, Path], split: str) -> Path:
    """Path of the annotation json of ``split`` ('train' or 'val') under ``root``."""
    if split not in DEMO_SPLITS:
        raise ValueError(f'split must be one of {DEMO_SPLITS}, got {split!r}')
    return Path(root) / 'annotations' / f'instances_{split}.json'


def _check_settings(settings: dict) -> dict:
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f'unknown demo settings {sorted(unknown)}; valid: '
                         f'{sorted(DEFAULT_SETTINGS)}')
    s = {**DEFAULT_SETTINGS, **settings}
    s['image_size'], s['object_size'] = list(s['image_size']), list(s['object_size'])
    (lo, hi), (obj_lo, obj_hi) = s['image_size'], s['object_size']
    if not (32 <= lo <= hi):
        raise ValueError(f'image_size must be (min, max) with 32 <= min <= max, got {lo, hi}'
                         ' (MMDetection drops images under 32 px)')
    if not (8 <= obj_lo <= obj_hi <= lo):
        raise ValueError(f'object_size must be (min, max) with 8 <= min <= max <= '
                         f'image_size min {lo}, got {obj_lo, obj_hi}')
    if s['num_train'] < 1 or s['num_val'] < 1 or s['max_objects'] < 1:
        raise ValueError('num_train, num_val and max_objects must be >= 1, got '
                         f"{s['num_train']}, {s['num_val']}, {s['max_objects']}")
    return s


def _overlaps(box: List[int], boxes: List[List[int]]) -> bool:
    x, y, w, h = box
    return any(x < bx + bw and bx < x + w and y < by + bh and by < y + h
               for bx, by, bw, bh in boxes)


def _compose(rng: np.random.Generator, objects: Dict[str, np.ndarray],
             backgrounds: List[np.ndarray], s: dict) -> Tuple[np.ndarray, list]:
    """One image (RGB) and its ``[(category index, [x, y, w, h]), ...]``."""
    width, height = (int(v) for v in rng.integers(s['image_size'][0],
                                                  s['image_size'][1] + 1, size=2))
    bg = backgrounds[rng.integers(len(backgrounds))]
    # A random crop of the background at 40-100 % of its short side, stretched.
    side = int(min(bg.shape[:2]) * rng.uniform(0.4, 1.0))
    y0 = int(rng.integers(bg.shape[0] - side + 1))
    x0 = int(rng.integers(bg.shape[1] - side + 1))
    image = cv2.resize(bg[y0:y0 + side, x0:x0 + side], (width, height),
                       interpolation=cv2.INTER_AREA)

    placed: list = []
    for _ in range(int(rng.integers(1, s['max_objects'] + 1))):
        label = int(rng.integers(len(DEMO_CLASSES)))
        crop = objects[DEMO_CLASSES[label]]
        longer = int(rng.integers(s['object_size'][0], s['object_size'][1] + 1))
        scale = longer / max(crop.shape[:2])
        w = max(1, round(crop.shape[1] * scale))
        h = max(1, round(crop.shape[0] * scale))
        for _attempt in range(20):  # rejection sampling for a free spot
            box = [int(rng.integers(width - w + 1)), int(rng.integers(height - h + 1)), w, h]
            if not _overlaps(box, [b for _, b in placed]):
                break
        else:
            continue
        patch = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        # Brightness jitter, so the detector cannot match one template exactly.
        patch = np.clip(patch * rng.uniform(0.75, 1.25), 0, 255).astype(np.uint8)
        x, y = box[:2]
        image[y:y + h, x:x + w] = patch
        placed.append((label, box))
    return image, placed


def _write_split(out: Path, split: str, num_images: int, s: dict,
                 objects: Dict[str, np.ndarray], backgrounds: List[np.ndarray]) -> None:
    rng = np.random.default_rng([s['seed'], DEMO_SPLITS.index(split)])
    (out / split).mkdir(parents=True)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        image, placed = _compose(rng, objects, backgrounds, s)
        file_name = f'{image_id:06d}.png'
        if not cv2.imwrite(str(out / split / file_name), image[..., ::-1]):
            raise OSError(f'could not write {out / split / file_name}')
        images.append(dict(id=image_id, file_name=file_name,
                           height=image.shape[0], width=image.shape[1]))
        for label, (x, y, w, h) in placed:
            annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                    category_id=label + 1, bbox=[x, y, w, h],
                                    area=w * h, iscrowd=0))
    info = dict(description='qbheat_mm demo detection set: bundled scikit-image '
                'photographs pasted onto each other', version=str(GENERATOR_VERSION),
                settings=s)
    categories = [dict(id=i + 1, name=name, supercategory='demo')
                  for i, name in enumerate(DEMO_CLASSES)]
    with open(demo_ann_file(out, split), 'w') as f:
        json.dump(dict(info=info, images=images, annotations=annotations,
                       categories=categories, licenses=[]), f)


def _check_existing(root: Path, s: dict) -> None:
    """Raise unless ``root`` holds a complete set generated with settings ``s``."""
    for split in DEMO_SPLITS:
        ann_file = demo_ann_file(root, split)
        if not ann_file.is_file():
            raise ValueError(f'{root} exists but has no {ann_file.name}: it is not a '
                             'complete demo set; delete it to regenerate')
        with open(ann_file) as f:
            info = json.load(f).get('info', {})
        if (info.get('settings') != s or info.get('version') != str(GENERATOR_VERSION)):
            raise ValueError(
                f'{root} was generated with settings {info.get("settings")} (version '
                f'{info.get("version")}), not the requested {s} (version '
                f'{GENERATOR_VERSION}); delete it to regenerate or pass its settings')


def prepare_demo_coco(root: Union[str, Path] = 'data/demo_coco', **settings) -> Path:
    """Generate the demo detection set into ``root`` unless it is already there.

    Generation writes into a temporary sibling folder and renames it to ``root`` at the
    end, so an interrupted run leaves no half-written set and concurrent callers (for
    example two dataloaders) end up with one complete copy. A second call with the same
    settings returns at once; with other settings it raises a ``ValueError``.

    Args:
        root (str | Path): Output folder. Defaults to 'data/demo_coco'.
        **settings: Override :data:`DEFAULT_SETTINGS`: ``num_train``, ``num_val``
            (images per split), ``image_size`` ((min, max) side in px, each image's
            width and height drawn from it), ``object_size`` ((min, max) longer side of
            a pasted object in px), ``max_objects`` (per image, at least 1) and ``seed``.

    Returns:
        Path: ``root``.
    """
    root = Path(root)
    s = _check_settings(settings)
    if root.exists():
        _check_existing(root, s)
        return root

    print_log(f'generating the demo COCO set into {root} (once)', logger='current')
    objects = {name: load_object(name) for name in DEMO_CLASSES}
    backgrounds = [load_photo(name) for name in DEMO_BACKGROUNDS]

    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{root.name}.tmp-', dir=root.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the set is not
        (tmp / 'annotations').mkdir()
        for split in DEMO_SPLITS:
            _write_split(tmp, split, s[f'num_{split}'], s, objects, backgrounds)
        try:
            os.rename(tmp, root)
        except OSError:
            if not root.exists():
                raise
            # Another process renamed its copy first; it holds the same bytes.
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    _check_existing(root, s)
    return root
