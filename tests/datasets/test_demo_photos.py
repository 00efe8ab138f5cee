"""prepare_demo_photos / DemoPhotoDataset: layout, labels, determinism, idempotence."""
import os

import numpy as np
import pytest

from qbheat_mm.datasets import DemoPhotoDataset, prepare_demo_photos
from qbheat_mm.datasets.demo_photos import PHOTOS

TINY = dict(img_size=32, num_train=2, num_val=1)


def read(path):
    with open(path) as f:
        return f.read().split('\n')[:-1]


def test_layout_labels_and_disjoint_splits(tmp_path):
    root = prepare_demo_photos(str(tmp_path / 'demo'), **TINY)
    train, val = read(f'{root}/meta/train.txt'), read(f'{root}/meta/val.txt')
    assert len(train) == 2 * len(PHOTOS) and len(val) == len(PHOTOS)
    assert train[0] == 'astronaut/000.png 0' and val[-1] == f'motorcycle/002.png {len(PHOTOS) - 1}'
    assert not {line.split()[0] for line in train} & {line.split()[0] for line in val}
    import cv2
    img = cv2.imread(f'{root}/val/coffee/002.png')
    assert img.shape == (32, 32, 3) and img.std() > 1  # a real photo crop, not a blank
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.demo_photos-')]


def test_deterministic_and_idempotent(tmp_path):
    a = prepare_demo_photos(str(tmp_path / 'a'), **TINY)
    b = prepare_demo_photos(str(tmp_path / 'b'), **TINY)
    import cv2
    for rel in ('train/rocket/001.png', 'val/retina/002.png'):
        np.testing.assert_array_equal(cv2.imread(f'{a}/{rel}'), cv2.imread(f'{b}/{rel}'))
    stamp = os.stat(f'{a}/train/rocket/001.png').st_mtime_ns
    assert prepare_demo_photos(a, **TINY) == a  # second call: nothing regenerated
    assert os.stat(f'{a}/train/rocket/001.png').st_mtime_ns == stamp


def test_refuses_foreign_or_different_folders(tmp_path):
    root = prepare_demo_photos(str(tmp_path / 'demo'), **TINY)
    with pytest.raises(ValueError, match='generated with .*delete'):
        prepare_demo_photos(root, img_size=64, num_train=2, num_val=1)
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'x.txt').write_text('mine')
    with pytest.raises(ValueError, match='not a generated demo photos dataset'):
        prepare_demo_photos(str(tmp_path / 'other'), **TINY)


def test_dataset_reads_both_splits(tmp_path):
    root = str(tmp_path / 'demo')
    train = DemoPhotoDataset(data_root=root, split='train', pipeline=[], **TINY)
    val = DemoPhotoDataset(data_root=root, split='val', pipeline=[], **TINY)
    assert len(train) == 16 and len(val) == 8
    assert train.CLASSES[1] == 'chelsea'
    info = val.get_data_info(3)
    assert info['gt_label'] == 3 and info['img_path'].endswith('val/rocket/002.png')
    with pytest.raises(ValueError, match="split must be one of \\('train', 'val'\\)"):
        DemoPhotoDataset(data_root=root, split='test')
