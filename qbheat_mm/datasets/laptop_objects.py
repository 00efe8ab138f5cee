"""The laptop-scale comparison set: 16 objects on held-apart backgrounds, colour decoupled.

The demo photo task (which of 8 photographs a crop comes from) is decided by colour
statistics, which a random backbone keeps, so it cannot rank pre-trainings. This set is
built so that the object's shape and texture decide the class:

- **16 classes**, each one object cut from a bundled scikit-image photograph
  (:data:`~qbheat_mm.datasets.bundled_photos.OBJECT_CROPS`: the four demo-COCO objects,
  and twelve whole photographs such as the cameraman, a clock, coins, a horse silhouette,
  a page of text);
- each image is one object, its longer side 40-90 % of the image side, rotated by up to
  25 degrees, flipped at random, pasted at a random position on a random **background**
  (7 texture photographs none of the objects comes from);
- **colour carries no label**: half the images are grey, the others get an independent
  random hue rotation of object and background (grey sources are tinted), then a
  brightness and contrast jitter;
- **train and val share no background pixels**: train backgrounds are cut from the left
  half of each background photograph, val backgrounds from the right half. The object
  itself is necessarily the same photograph in both splits (one photograph per class),
  seen at other scales, angles, colours and positions.

Layout (MMPretrain's ``filename label`` annotation files)::

    root/train/<class>/<k>.png   root/meta/train.txt
    root/val/<class>/<k>.png     root/meta/val.txt     root/meta/settings.json
"""
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np
from mmpretrain.registry import DATASETS

from .bundled_photos import OBJECT_CROPS, load_object, load_photo
from .generated import SPLITS, GeneratedSplitDataset, generate_once

LAPTOP_CLASSES: Tuple[str, ...] = tuple(OBJECT_CROPS)
LAPTOP_BACKGROUNDS: Tuple[str, ...] = ('brick', 'grass', 'gravel', 'hubble_deep_field',
                                       'immunohistochemistry', 'retina', 'rocket')
OBJECT_SCALE = (0.4, 0.9)  # longer side of the object / image side
MAX_ROTATION = 25.  # degrees
GREY_PROB = 0.5
# Bumped whenever the generator's output changes for the same settings.
GENERATOR_VERSION = 1


def _hue_rotate(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random hue rotation and saturation change; grey images are tinted first."""
    if np.ptp(image.astype(np.int16), axis=2).max() < 8:  # grey: tint with a random colour
        tint = rng.uniform(0.35, 1.0, size=3)
        image = np.clip(image * (tint / tint.max()), 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + int(rng.integers(180))) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.6, 1.4), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _background(photo: np.ndarray, split: str, size: int,
                rng: np.random.Generator) -> np.ndarray:
    """A random square crop of the split's half of ``photo`` (left: train, right: val)."""
    H, W = photo.shape[:2]
    half = photo[:, :W // 2] if split == 'train' else photo[:, W // 2:]
    side = int(min(half.shape[:2]) * rng.uniform(0.4, 1.0))
    y = int(rng.integers(H - side + 1))
    x = int(rng.integers(half.shape[1] - side + 1))
    return cv2.resize(half[y:y + side, x:x + side], (size, size),
                      interpolation=cv2.INTER_AREA)


def _paste(canvas: np.ndarray, obj: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``obj`` scaled, rotated and flipped at random, pasted at a random place."""
    size = canvas.shape[0]
    longer = size * rng.uniform(*OBJECT_SCALE)
    scale = longer / max(obj.shape[:2])
    w, h = max(4, round(obj.shape[1] * scale)), max(4, round(obj.shape[0] * scale))
    patch = cv2.resize(obj, (w, h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    # Rotate about the centre into a canvas that holds the whole rotated rectangle.
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
    rw, rh = int(h * sin + w * cos), int(h * cos + w * sin)
    rw, rh = min(rw, size), min(rh, size)
    rot[0, 2] += rw / 2 - w / 2
    rot[1, 2] += rh / 2 - h / 2
    patch = cv2.warpAffine(np.ascontiguousarray(patch), rot, (rw, rh),
                           flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), rot, (rw, rh),
                          flags=cv2.INTER_LINEAR)[..., None] / 255.
    x = int(rng.integers(size - rw + 1))
    y = int(rng.integers(size - rh + 1))
    region = canvas[y:y + rh, x:x + rw].astype(np.float64)
    canvas[y:y + rh, x:x + rw] = (patch * mask + region * (1 - mask) + 0.5).astype(np.uint8)
    return canvas


def compose_image(obj: np.ndarray, background: np.ndarray, split: str, size: int,
                  rng: np.random.Generator) -> np.ndarray:
    """One RGB laptop-set image: ``obj`` on a crop of ``background`` (see the module)."""
    grey = rng.random() < GREY_PROB
    if not grey:
        obj, background = _hue_rotate(obj, rng), _hue_rotate(background, rng)
    canvas = _background(background, split, size, rng)
    image = _paste(canvas, obj, rng).astype(np.float64)
    if grey:
        image = np.repeat(image @ np.array([[0.299], [0.587], [0.114]]), 3, axis=2)
    contrast, brightness = rng.uniform(0.7, 1.3), rng.uniform(-30, 30)
    image = (image - image.mean()) * contrast + image.mean() + brightness
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def _settings(img_size: int, num_train: int, num_val: int, seed: int) -> dict:
    if img_size < 32 or num_train < 1 or num_val < 1:
        raise ValueError('img_size must be >= 32 and num_train, num_val >= 1, got '
                         f'{img_size}, {num_train}, {num_val}')
    return dict(img_size=img_size, num_train=num_train, num_val=num_val, seed=seed,
                classes=list(LAPTOP_CLASSES), backgrounds=list(LAPTOP_BACKGROUNDS),
                version=GENERATOR_VERSION)


def prepare_laptop_objects(root: str = 'data/laptop_objects',
                           img_size: int = 128,
                           num_train: int = 48,
                           num_val: int = 16,
                           seed: int = 0) -> str:
    """Generate the laptop-scale set under ``root`` unless it is already there.

    ``num_train`` / ``num_val`` images per class (defaults: 768 train, 256 val images),
    ``img_size`` px squares, deterministic for a given ``seed``. Written into a temporary
    sibling folder and renamed, so an interrupted or concurrent run never leaves half a
    set; a ``root`` generated with other settings raises a ``ValueError``.

    Returns:
        str: ``root``.
    """
    settings = _settings(img_size, num_train, num_val, seed)

    def write(folder: str) -> dict:
        objects = {name: load_object(name) for name in LAPTOP_CLASSES}
        backgrounds = [load_photo(name) for name in LAPTOP_BACKGROUNDS]
        lines = {}
        for split_index, split in enumerate(SPLITS):
            rng = np.random.default_rng([seed, split_index])
            lines[split] = []
            for label, name in enumerate(LAPTOP_CLASSES):
                subdir = name.replace(' ', '_')
                os.makedirs(osp.join(folder, split, subdir))
                for k in range(num_train if split == 'train' else num_val):
                    bg = backgrounds[int(rng.integers(len(backgrounds)))]
                    image = compose_image(objects[name], bg, split, img_size, rng)
                    rel = f'{subdir}/{k:03d}.png'
                    if not cv2.imwrite(osp.join(folder, split, rel), image[..., ::-1]):
                        raise OSError(f'could not write {osp.join(folder, split, rel)}')
                    lines[split].append(f'{rel} {label}')
        return lines

    return generate_once(root, settings, 'laptop-objects', write)


@DATASETS.register_module()
class LaptopObjectsDataset(GeneratedSplitDataset):
    """The laptop-scale comparison set (see the module), generated on first use.

    Args:
        data_root (str): Where the set lives (generated if missing).
            Defaults to ``'data/laptop_objects'``.
        split (str): ``'train'`` or ``'val'``.
        img_size (int): Image side in pixels. Defaults to 128.
        num_train (int): Training images per class. Defaults to 48.
        num_val (int): Validation images per class. Defaults to 16.
        seed (int): Generation seed. Defaults to 0.
        **kwargs: Passed to :class:`mmpretrain.datasets.CustomDataset`.
    """

    METAINFO = dict(classes=LAPTOP_CLASSES)

    def __init__(self,
                 data_root: str = 'data/laptop_objects',
                 split: str = 'train',
                 img_size: int = 128,
                 num_train: int = 48,
                 num_val: int = 16,
                 seed: int = 0,
                 **kwargs) -> None:
        super().__init__(data_root, split, prepare_laptop_objects,
                         dict(img_size=img_size, num_train=num_train, num_val=num_val,
                              seed=seed), **kwargs)
