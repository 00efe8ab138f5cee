"""The laptop-scale set: deterministic, colour decoupled from the class, train and val
backgrounds from disjoint halves, and a clear error for a root made with other settings."""
from pathlib import Path

import numpy as np
import pytest

from qbheat_mm.datasets import LaptopObjectsDataset, prepare_laptop_objects
from qbheat_mm.datasets.laptop_objects import LAPTOP_CLASSES, _background, compose_image


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('laptop') / 'objects'
    return prepare_laptop_objects(str(root), img_size=64, num_train=4, num_val=2, seed=3)


def test_layout_labels_and_determinism(tiny_root, tmp_path):
    tiny = dict(data_root=tiny_root, img_size=64, num_train=4, num_val=2, seed=3)
    train = LaptopObjectsDataset(split='train', **tiny)
    val = LaptopObjectsDataset(split='val', **tiny)
    assert len(train) == 4 * 16 and len(val) == 2 * 16
    assert train.CLASSES == LAPTOP_CLASSES and len(set(LAPTOP_CLASSES)) == 16
    assert sorted(set(train.get_gt_labels().tolist())) == list(range(16))
    again = prepare_laptop_objects(str(tmp_path / 'again'), img_size=64, num_train=4,
                                   num_val=2, seed=3)
    for rel in ('train/cat/000.png', 'val/horse/001.png'):
        assert (Path(again) / rel).read_bytes() == (Path(tiny_root) / rel).read_bytes()
    with pytest.raises(ValueError, match='generated with'):
        prepare_laptop_objects(str(tiny_root), img_size=64, num_train=5, num_val=2, seed=3)


def test_colour_does_not_name_the_class():
    """Half the images are grey, and a colour object gets a random hue each time."""
    rng = np.random.default_rng(0)
    obj = np.zeros((40, 40, 3), np.uint8)
    obj[..., 0] = 200  # a red square
    background = np.full((100, 100, 3), 90, np.uint8)
    images = [compose_image(obj, background, 'train', 64, rng) for _ in range(60)]
    grey = [np.ptp(im.astype(int), axis=2).max() == 0 for im in images]
    assert 0.3 < np.mean(grey) < 0.7
    hues = {int(np.argmax(im.reshape(-1, 3).max(0))) for im, g in zip(images, grey) if not g}
    assert len(hues) >= 2  # the dominant channel of the red object varies


def test_train_and_val_backgrounds_come_from_disjoint_halves():
    photo = np.zeros((100, 200, 3), np.uint8)
    photo[:, 100:] = 255  # left half black, right half white
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert _background(photo, 'train', 32, rng).max() == 0
        assert _background(photo, 'val', 32, rng).min() == 255


def test_bad_split_and_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match='split must be one of'):
        LaptopObjectsDataset(data_root=str(tmp_path), split='test')
    with pytest.raises(ValueError, match='img_size must be'):
        prepare_laptop_objects(str(tmp_path / 'x'), img_size=16)
