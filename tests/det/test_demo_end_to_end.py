"""The demo configs end to end on a tiny generated set and a tiny backbone: train and test
through our tools, train through MMDetection's own tools/train.py, infer with
DetInferencer. COCOeval really runs (score_thr=0) and the backbone leaves training exactly
as it was loaded."""
import json
import runpy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from qbheat_mm import compat
from qbheat_mm.det import DEMO_CLASSES
from tiny_detectors import DET_CONFIGS, shrink_to_tiny
from tool_loader import load_tool

pytestmark = pytest.mark.e2e

DEMO = {
    'retinanet': 'retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py',
    'detr': 'detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco.py',
}
TINY_DEMO = dict(num_train=8, num_val=4, image_size=(64, 80), object_size=(20, 48), seed=1)
EPOCHS = 2


def _tiny_demo_config(detector: str, tmp_path: Path, checkpoint: Path) -> Path:
    """The real demo config with a tiny backbone, tiny data under tmp_path and 2 epochs,
    written out as a config file for the command-line tools."""
    cfg = shrink_to_tiny(Config.fromfile(DET_CONFIGS / DEMO[detector]), str(checkpoint))
    root = tmp_path / 'demo_coco'
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.batch_size = 4
        loader.dataset.update(data_root=str(root), demo_settings=TINY_DEMO)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = str(root / 'annotations' / 'instances_val.json')
    cfg.train_cfg.update(max_epochs=EPOCHS, val_interval=EPOCHS)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.default_hooks.checkpoint.interval = EPOCHS
    cfg.log_level = 'WARNING'
    # The visualizer is a process-wide named instance: a second Runner in this process
    # would log into the first one's work dir under the default name.
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    path = tmp_path / DEMO[detector]
    cfg.dump(path)
    return path


def _assert_backbone_as_pretrained(checkpoint: Path, pretrained: dict) -> None:
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    for key, value in pretrained.items():
        assert torch.equal(state[f'backbone.{key}'], value), f'backbone.{key} changed'


def _assert_coco_metrics(metrics: dict) -> None:
    # CocoMetric returns no keys at all when COCOeval did not run (no predictions).
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_s'):
        assert isinstance(metrics[key], float), (key, metrics)
    assert 0.0 <= metrics['coco/bbox_mAP'] <= metrics['coco/bbox_mAP_50'] <= 1.0


def test_retinanet_demo_train_test_infer(tmp_path: Path, tiny_checkpoint):
    """Our tools/train.py and tools/test.py, then DetInferencer on the trained weights."""
    from mmdet.apis import DetInferencer

    pretrain, pretrained = tiny_checkpoint
    config = _tiny_demo_config('retinanet', tmp_path, pretrain)
    work_dir = tmp_path / 'work'
    load_tool('train.py').main([str(config), '--work-dir', str(work_dir)])
    checkpoint = work_dir / f'epoch_{EPOCHS}.pth'
    _assert_backbone_as_pretrained(checkpoint, pretrained)
    # A detector's Runner checkpoint loads with weights_only=True and the allow-list:
    # tools/test.py and DetInferencer below need no opt-in.
    assert compat._unsafe_globals(str(checkpoint)) == []
    assert not compat.pickle_allowed()

    metrics = load_tool('test.py').main([str(config), str(checkpoint),
                                       '--work-dir', str(tmp_path / 'test')])
    _assert_coco_metrics(metrics)

    inferencer = DetInferencer(model=str(config), weights=str(checkpoint), device='cpu',
                               show_progress=False)
    assert tuple(inferencer.model.dataset_meta['classes']) == DEMO_CLASSES
    image = tmp_path / 'demo_coco' / 'val' / '000001.png'
    result = inferencer(str(image), no_save_pred=True, no_save_vis=True)
    (pred, ) = result['predictions']
    assert len(pred['bboxes']) == len(pred['scores']) == len(pred['labels']) > 0
    assert all(len(box) == 4 for box in pred['bboxes'])
    assert set(pred['labels']) <= set(range(len(DEMO_CLASSES)))


def test_detr_demo_with_mmdet_train_entry(tmp_path: Path, tiny_checkpoint, monkeypatch):
    """MMDetection's own tools/train.py (shipped in the wheel under mmdet/.mim/tools) needs
    nothing but the config: custom_imports registers qbheat_mm and qbheat_mm.det, and it
    builds the config's runner_type (checkpoints written atomically)."""
    import mmdet
    from mmengine.fileio import LocalBackend

    written, put = [], LocalBackend.put
    monkeypatch.setattr(LocalBackend, 'put',
                        lambda backend, obj, path: written.append(Path(path).name) or put(
                            backend, obj, path))

    pretrain, pretrained = tiny_checkpoint
    config = _tiny_demo_config('detr', tmp_path, pretrain)
    work_dir = tmp_path / 'work'
    mmdet_train = Path(mmdet.__file__).parent / '.mim' / 'tools' / 'train.py'
    monkeypatch.setattr(sys, 'argv', [str(mmdet_train), str(config), '--work-dir',
                                      str(work_dir)])
    runpy.run_path(str(mmdet_train), run_name='__main__')

    _assert_backbone_as_pretrained(work_dir / f'epoch_{EPOCHS}.pth', pretrained)
    assert f'epoch_{EPOCHS}.pth.partial' in written
    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    _assert_coco_metrics(next(r for r in records if 'coco/bbox_mAP' in r))


def test_bad_annotations_stop_before_training(tmp_path: Path, tiny_checkpoint):
    """A val json without 'area' stops tools/train.py before the first iteration."""
    from qbheat_mm.det import prepare_demo_coco

    pretrain, _ = tiny_checkpoint
    config = _tiny_demo_config('retinanet', tmp_path, pretrain)
    ann_file = prepare_demo_coco(tmp_path / 'demo_coco', **TINY_DEMO) / 'annotations' / \
        'instances_val.json'
    data = json.loads(ann_file.read_text())
    for ann in data['annotations']:
        del ann['area']
    ann_file.write_text(json.dumps(data))
    work_dir = tmp_path / 'work'
    with pytest.raises(ValueError, match=rf"{ann_file}: .* annotations lack the required "
                                         r"field 'area'"):
        load_tool('train.py').main([str(config), '--work-dir', str(work_dir)])
    assert not list(work_dir.rglob('*.pth')) and not list(work_dir.rglob('scalars.json'))
