"""A tiny photo dataset generated on first use from the photographs bundled with scikit-image."""
import os
import os.path as osp
from typing import Callable, Dict, Tuple

import cv2
import numpy as np

from mmpretrain.registry import DATASETS
from .generated import SPLITS, GeneratedSplitDataset, generate_once


def _motorcycle() -> np.ndarray:
    from skimage import data
    return data.stereo_motorcycle()[0]  # the left view; the right one is the same scene


def _loader(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data
        return getattr(data, name)()
    return load


# Colour photographs shipped inside the scikit-image wheel (nothing is downloaded). The
# index in this table is the class label written to the annotation files.
PHOTOS: Dict[str, Callable[[], np.ndarray]] = {
    'astronaut': _loader('astronaut'),
    'chelsea': _loader('chelsea'),
    'coffee': _loader('coffee'),
    'rocket': _loader('rocket'),
    'hubble_deep_field': _loader('hubble_deep_field'),
    'immunohistochemistry': _loader('immunohistochemistry'),
    'retina': _loader('retina'),
    'motorcycle': _motorcycle,
}

def _random_crop(photo: np.ndarray, rng: np.random.Generator,
                 scale: Tuple[float, float]) -> np.ndarray:
    """A random square crop whose side is ``scale`` x the photo's shorter side."""
    H, W = photo.shape[:2]
    side = int(min(H, W) * rng.uniform(*scale))
    y = int(rng.integers(0, H - side + 1))
    x = int(rng.integers(0, W - side + 1))
    return photo[y:y + side, x:x + side]


def prepare_demo_photos(root: str = 'data/demo',
                        img_size: int = 128,
                        num_train: int = 40,
                        num_val: int = 8,
                        scale: Tuple[float, float] = (0.25, 0.6),
                        seed: int = 0) -> str:
    """Generate the demo dataset under ``root`` unless it is already there.

    For each photograph in :data:`PHOTOS`, ``num_train + num_val`` random square crops
    (side ``scale`` x the photo's shorter side, deterministic for a given ``seed``) are
    resized to ``img_size`` px and written as PNG; train and val get different crops.
    Layout (MMPretrain's ``filename label`` annotation files; label = photo index)::

        root/train/<photo>/<k>.png    root/meta/train.txt
        root/val/<photo>/<k>.png      root/meta/val.txt     root/meta/settings.json

    Generation writes into a temporary folder next to ``root`` and renames it, so an
    interrupted or concurrent run never leaves a half-written dataset.

    Args:
        root (str): Target folder.
        img_size (int): Side of the saved images in pixels.
        num_train (int): Training crops per photograph.
        num_val (int): Validation crops per photograph.
        scale (tuple[float, float]): Range of the crop side relative to the shorter
            side of the photograph.
        seed (int): Random seed.

    Returns:
        str: ``root``.
    """
    settings = dict(img_size=img_size, num_train=num_train, num_val=num_val,
                    scale=list(scale), seed=seed, photos=list(PHOTOS))

    def write(folder: str) -> dict:
        rng = np.random.default_rng(seed)
        lines = {split: [] for split in SPLITS}
        for label, (name, load) in enumerate(PHOTOS.items()):
            photo = load()
            for k in range(num_train + num_val):
                split = 'train' if k < num_train else 'val'
                crop = _random_crop(photo, rng, scale)
                img = cv2.resize(crop, (img_size, img_size), interpolation=cv2.INTER_AREA)
                rel = f'{name}/{k:03d}.png'
                os.makedirs(osp.join(folder, split, name), exist_ok=True)
                # skimage gives RGB; cv2 writes BGR.
                cv2.imwrite(osp.join(folder, split, rel), img[..., ::-1])
                lines[split].append(f'{rel} {label}')
        return lines

    return generate_once(root, settings, 'demo photos', write)


@DATASETS.register_module()
class DemoPhotoDataset(GeneratedSplitDataset):
    """Random crops of scikit-image's bundled photographs, generated on first use.

    The label of each image is the index of its source photograph (a toy classification
    task for the probing demo). See :func:`prepare_demo_photos`.

    Args:
        data_root (str): Where the dataset lives (generated if missing).
            Defaults to ``'data/demo'``.
        split (str): ``'train'`` or ``'val'``.
        img_size (int): Image side in pixels, used when generating. Defaults to 128.
        num_train (int): Training crops per photograph. Defaults to 40.
        num_val (int): Validation crops per photograph. Defaults to 8.
        seed (int): Generation seed. Defaults to 0.
        **kwargs: Passed to :class:`mmpretrain.datasets.CustomDataset` (``pipeline``,
            ``indices``, ...).
    """

    METAINFO = dict(classes=tuple(PHOTOS))

    def __init__(self,
                 data_root: str = 'data/demo',
                 split: str = 'train',
                 img_size: int = 128,
                 num_train: int = 40,
                 num_val: int = 8,
                 seed: int = 0,
                 **kwargs) -> None:
        super().__init__(data_root, split, prepare_demo_photos,
                         dict(img_size=img_size, num_train=num_train, num_val=num_val,
                              seed=seed), **kwargs)
