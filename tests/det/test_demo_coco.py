"""The generated demo detection set: exact boxes, COCO json that pycocotools and COCOeval
accept, deterministic, idempotent, atomic; ``DemoCocoDataset`` generates on first use."""
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from qbheat_mm.datasets.bundled_photos import load_object
from qbheat_mm.det import demo_coco
from qbheat_mm.det.demo_coco import DEMO_CLASSES, demo_ann_file, prepare_demo_coco

TINY = dict(num_train=6, num_val=4, image_size=(64, 80), object_size=(16, 40), seed=3)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory) -> Path:
    return prepare_demo_coco(tmp_path_factory.mktemp('det') / 'demo_coco', **TINY)


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def test_layout_and_annotations(demo_root: Path):
    for split, num in (('train', 6), ('val', 4)):
        data = json.loads(demo_ann_file(demo_root, split).read_text())
        assert set(data) >= {'info', 'images', 'annotations', 'categories'}
        assert [c['name'] for c in data['categories']] == list(DEMO_CLASSES)
        assert [img['id'] for img in data['images']] == list(range(1, num + 1))
        assert len(list((demo_root / split).glob('*.png'))) == num
        ann_ids = [a['id'] for a in data['annotations']]
        assert len(set(ann_ids)) == len(ann_ids) >= num  # at least one object per image
        for img in data['images']:
            pixels = cv2.imread(str(demo_root / split / img['file_name']))
            assert pixels.shape == (img['height'], img['width'], 3)
            assert 64 <= img['height'] <= 80 and 64 <= img['width'] <= 80
            boxes = [a['bbox'] for a in data['annotations'] if a['image_id'] == img['id']]
            for x, y, w, h in boxes:
                assert x >= 0 and y >= 0 and x + w <= img['width'] and y + h <= img['height']
                assert 16 <= max(w, h) <= 40
        for a in data['annotations']:
            assert a['area'] == a['bbox'][2] * a['bbox'][3] and a['iscrowd'] == 0
            assert 1 <= a['category_id'] <= len(DEMO_CLASSES)


def _paste_residual(img: np.ndarray, box: list, crop: np.ndarray) -> float:
    """Mean |pixel error| of explaining ``img[box]`` as ``crop`` (resized, maybe flipped)
    times the best brightness factor, as the generator pastes it."""
    x, y, w, h = box
    if x < 0 or y < 0 or x + w > img.shape[1] or y + h > img.shape[0]:
        return float('inf')
    patch = img[y:y + h, x:x + w].astype(np.float32)
    resized = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    errors = []
    for c in (resized, resized[:, ::-1]):
        factor = (patch * c).sum() / (c * c).sum()
        errors.append(np.abs(patch - np.clip(c * factor, 0, 255)).mean())
    return float(min(errors))


def test_boxes_are_exact(demo_root: Path):
    """Each box is exactly the pasted rectangle: its pixels are the object's crop up to
    brightness and flip; the box moved by one pixel in any direction is not."""
    data = json.loads(demo_ann_file(demo_root, 'train').read_text())
    for ann in data['annotations'][:4]:
        img = cv2.imread(str(demo_root / 'train' / f"{ann['image_id']:06d}.png"))
        crop = load_object(DEMO_CLASSES[ann['category_id'] - 1])[..., ::-1]  # BGR, as cv2
        x, y, w, h = ann['bbox']
        assert _paste_residual(img, [x, y, w, h], crop) < 4
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            assert _paste_residual(img, [x + dx, y + dy, w, h], crop) > 8


def test_pycocotools_and_cocoeval(demo_root: Path):
    """Ground truth as detections scores AP 1; boxes shifted by half their size do not."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO(str(demo_ann_file(demo_root, 'val')))
    assert len(gt.getImgIds()) == 4 and len(gt.getCatIds()) == len(DEMO_CLASSES)

    def evaluate(shift: float) -> float:
        dets = [dict(image_id=a['image_id'], category_id=a['category_id'], score=0.9,
                     bbox=[a['bbox'][0] + shift * a['bbox'][2], a['bbox'][1],
                           a['bbox'][2], a['bbox'][3]])
                for a in gt.dataset['annotations']]
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        return float(ev.stats[0])

    assert evaluate(0.0) == pytest.approx(1.0)
    assert evaluate(0.5) < 0.1


def test_deterministic(demo_root: Path, tmp_path: Path):
    again = prepare_demo_coco(tmp_path / 'again', **TINY)
    assert _digest(again) == _digest(demo_root)
    other = prepare_demo_coco(tmp_path / 'other', **dict(TINY, seed=4))
    assert _digest(other) != _digest(demo_root)


def test_idempotent_and_settings_checked(demo_root: Path):
    before = {p: p.stat().st_mtime_ns for p in demo_root.rglob('*')}
    assert prepare_demo_coco(demo_root, **TINY) == demo_root
    assert {p: p.stat().st_mtime_ns for p in demo_root.rglob('*')} == before
    with pytest.raises(ValueError, match=r"generated with settings .*'num_train': 6.*delete "
                                         r'it to regenerate'):
        prepare_demo_coco(demo_root, **dict(TINY, num_train=7))


def test_atomic_on_failure(tmp_path: Path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError('disk full')

    monkeypatch.setattr(demo_coco, '_write_split', fail)
    with pytest.raises(RuntimeError, match='disk full'):
        prepare_demo_coco(tmp_path / 'demo_coco', **TINY)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary folder


@pytest.mark.parametrize('settings, message', [
    (dict(colour=True), r"unknown demo settings \['colour'\]"),
    (dict(image_size=(16, 20)), 'image_size must be'),
    (dict(object_size=(16, 200)), 'object_size must be'),
    (dict(num_val=0), 'must be >= 1'),
])
def test_bad_settings(tmp_path: Path, settings: dict, message: str):
    with pytest.raises(ValueError, match=message):
        prepare_demo_coco(tmp_path / 'x', **settings)
    assert not (tmp_path / 'x').exists()


def test_demo_dataset_generates_on_first_full_init(tmp_path: Path):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    import qbheat_mm.det  # noqa: F401  (registers the datasets)
    init_default_scope('mmdet')
    root = tmp_path / 'demo_coco'
    cfg = dict(type='DemoCocoDataset', data_root=str(root), demo_settings=TINY,
               ann_file='annotations/instances_val.json', data_prefix=dict(img='val/'),
               test_mode=True, pipeline=[])
    lazy = DATASETS.build(dict(cfg, lazy_init=True))
    assert lazy.metainfo['classes'] == DEMO_CLASSES and not root.exists()
    dataset = DATASETS.build(cfg)
    assert root.is_dir() and len(dataset) == 4
    labels = {int(i['bbox_label']) for k in range(4) for i in dataset[k]['instances']}
    assert labels <= set(range(len(DEMO_CLASSES)))
    with pytest.raises(ValueError, match='DemoCocoDataset needs data_root'):
        DATASETS.build(dict(cfg, data_root=''))
