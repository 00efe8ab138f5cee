"""DETR and RetinaNet built from the real config files (with a tiny Mobile-Former): the
configs say what they should, loss and predict run, the backbone stays frozen through a
training step while the head learns, and the checkpoint load is strict."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from tiny_detectors import DET_CONFIGS, TINY_ARCH

QBHEAT = {
    'detr': 'detr_mobileformer-294m-qbheat-frozen_8xb2-150e_coco.py',
    'retinanet': 'retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py',
}
# Where each pre-training config's own run (tools/train.py CONFIG) writes its last checkpoint.
PRETRAINED_CHECKPOINTS = {
    'qbheat': 'work_dirs/qbheat_mobileformer_in1k/epoch_300.pth',
    'supervised': 'work_dirs/mobileformer-294m_8xb128_in1k/epoch_450.pth',
    'mocov2': 'work_dirs/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k/epoch_200.pth',
}
NECK_IN = {'detr': [1152], 'retinanet': [48, 128, 1152]}
OUT_INDICES = {'detr': (4, ), 'retinanet': (1, 2, 4)}


def _build(cfg: Config) -> torch.nn.Module:
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    return MODELS.build(cfg.model)


def _batch(model: torch.nn.Module, training: bool) -> dict:
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 64, 64), (3, 64, 48)],
                            num_items=[2, 1], num_classes=80)
    return model.data_preprocessor(packed, training)


@pytest.mark.parametrize('detector', sorted(QBHEAT))
def test_real_configs(detector: str):
    """The full-size configs: frozen 294M, strict load, checked COCO data; the baselines
    differ from the QB-Heat config in nothing but their checkpoint."""
    from qbheat_mm.models.backbones import MobileFormer

    cfg = Config.fromfile(DET_CONFIGS / QBHEAT[detector])
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports.imports == ['qbheat_mm', 'qbheat_mm.det']
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.arch, backbone.out_indices) == (
        'mmpretrain.MobileFormer', '294m', OUT_INDICES[detector])
    assert backbone.frozen_stages == 5 and backbone.norm_eval is True
    assert backbone.init_cfg == dict(type='StrictPretrained', prefix='auto',
                                     checkpoint=PRETRAINED_CHECKPOINTS['qbheat'])
    assert cfg.model.neck.in_channels == NECK_IN[detector]
    # The neck's channels are the real 294M backbone's.
    assert list(MobileFormer('294m', out_indices=backbone.out_indices).out_channels) == \
        NECK_IN[detector]
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'CheckedCocoDataset' and dataset.data_root == 'data/coco/'
    assert cfg.test_evaluator.type == 'CocoMetric' and cfg.test_evaluator.metric == 'bbox'
    if detector == 'detr':
        assert cfg.train_cfg.max_epochs == 150 and cfg.optim_wrapper.optimizer.lr == 1e-4
        assert cfg.model.num_queries == 100 and cfg.model.neck.out_channels == 256
    else:
        assert cfg.train_cfg.max_epochs == 12 and cfg.optim_wrapper.optimizer.lr == 0.01
        assert cfg.model.neck.num_outs == 5 and cfg.model.neck.add_extra_convs == 'on_input'

    for twin in ('supervised', 'mocov2'):
        twin_cfg = Config.fromfile(DET_CONFIGS / QBHEAT[detector].replace('qbheat', twin))
        reference = cfg.to_dict()
        reference['model']['backbone']['init_cfg']['checkpoint'] = PRETRAINED_CHECKPOINTS[twin]
        assert twin_cfg.to_dict() | {'filename': None} == reference | {'filename': None}


@pytest.mark.parametrize('detector', sorted(QBHEAT))
def test_loss_and_predict(detector: str, tiny_config):
    cfg = tiny_config(QBHEAT[detector])
    cfg.model.backbone.init_cfg = None  # random weights are fine for shapes
    model = _build(cfg)
    assert type(model).__name__ == {'detr': 'DETR', 'retinanet': 'RetinaNet'}[detector]
    assert model.backbone.out_channels == tuple(cfg.model.neck.in_channels)

    model.train()
    losses = model(**_batch(model, training=True), mode='loss')
    expected = {'detr': {'loss_cls', 'loss_bbox', 'loss_iou'},
                'retinanet': {'loss_cls', 'loss_bbox'}}[detector]
    assert expected <= set(losses)
    for name, value in losses.items():
        value = sum(value) if isinstance(value, list) else value
        assert torch.isfinite(value).all() and value.item() > 0, name

    model.eval()
    cfg_test = model.bbox_head.test_cfg if detector == 'retinanet' else None
    if cfg_test is not None:
        cfg_test.score_thr = 0.0  # an untrained head scores below the default 0.05
    with torch.no_grad():
        results = model(**_batch(model, training=False), mode='predict')
    assert len(results) == 2
    for result in results:
        pred = result.pred_instances
        assert pred.bboxes.shape[1] == 4 and len(pred.scores) == len(pred.labels) > 0
        assert ((pred.labels >= 0) & (pred.labels < 80)).all()
        if detector == 'detr':
            assert len(pred.bboxes) == cfg.model.num_queries


@pytest.mark.parametrize('detector', sorted(QBHEAT))
def test_training_step_keeps_backbone_frozen(detector: str, tiny_config, tiny_checkpoint):
    """One optimizer step with the config's own optimizer in train() mode: every backbone
    parameter and BN statistic equals the checkpoint's, while the head moved."""
    path, pretrained = tiny_checkpoint
    cfg = tiny_config(QBHEAT[detector], checkpoint=str(path))
    model = _build(cfg)
    model.init_weights()
    backbone_state = model.backbone.state_dict()
    assert backbone_state.keys() == pretrained.keys()
    for key, value in pretrained.items():
        assert torch.equal(backbone_state[key], value), key

    head_before = {k: v.clone() for k, v in model.bbox_head.state_dict().items()}
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))
    losses = model(**_batch(model, training=True), mode='loss')
    loss, _ = model.parse_losses(losses)
    optim_wrapper.update_params(loss)

    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, pretrained[key]), f'backbone {key} changed'
    changed = [k for k, v in model.bbox_head.state_dict().items()
               if not torch.equal(v, head_before[k])]
    assert len(changed) >= len(head_before) // 2, changed


def test_missing_checkpoint_stops_with_a_clear_error(tiny_config, tmp_path: Path):
    """Neither checkpoint=None nor a default checkpoint that was never written may mean a
    random backbone."""
    model = _build(tiny_config(QBHEAT['retinanet']))
    with pytest.raises(ValueError, match=r'no checkpoint.*--cfg-options '
                                         r'model\.backbone\.init_cfg\.checkpoint=PATH'):
        model.init_weights()
    model = _build(tiny_config(QBHEAT['retinanet'], str(tmp_path / 'epoch_200.pth')))
    with pytest.raises(FileNotFoundError, match='epoch_200.pth'):
        model.init_weights()


def test_wrong_checkpoint_lists_keys(tiny_config, tmp_path: Path):
    """A checkpoint of another architecture stops the run, listing the mismatches."""
    from qbheat_mm.models.backbones import MobileFormer

    other = dict(TINY_ARCH, token_dims=32)
    state = {f'backbone.{k}': v for k, v in MobileFormer(arch=other).state_dict().items()}
    torch.save(dict(state_dict=state), tmp_path / 'other.pth')
    model = _build(tiny_config(QBHEAT['detr'], checkpoint=str(tmp_path / 'other.pth')))
    with pytest.raises(RuntimeError, match=r'(?s)does not fit MobileFormer.*shape mismatch'):
        model.init_weights()


# The detectors for any checkpoint and their QB-Heat children (one line each).
ANY_CHECKPOINT = {
    'retinanet_mobileformer-294m-frozen_fpn_1x_coco.py':
        'retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py',
    'detr_mobileformer-294m-frozen_8xb2-150e_coco.py':
        'detr_mobileformer-294m-qbheat-frozen_8xb2-150e_coco.py',
    'retinanet_mobileformer-294m-frozen_fpn_1xb8-20e_demo-coco.py':
        'retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py',
    'detr_mobileformer-294m-frozen_1xb8-40e_demo-coco.py':
        'detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco.py',
}


@pytest.mark.parametrize('base', sorted(ANY_CHECKPOINT))
def test_the_detector_for_any_checkpoint_asks_for_one(base: str, tiny_config):
    """The pre-training-agnostic detector is the base: it names no checkpoint and stops
    before training without one; the QB-Heat detector is it with the checkpoint set."""
    cfg = Config.fromfile(DET_CONFIGS / base)
    assert cfg.model.backbone.init_cfg == dict(type='StrictPretrained', checkpoint=None,
                                               prefix='auto')
    child = Config.fromfile(DET_CONFIGS / ANY_CHECKPOINT[base])
    assert child.model.backbone.init_cfg.checkpoint.startswith('work_dirs/qbheat_')
    reference = cfg.to_dict()
    reference['model']['backbone']['init_cfg']['checkpoint'] = \
        child.model.backbone.init_cfg.checkpoint
    assert child.to_dict() | {'filename': None} == reference | {'filename': None}
    assert (DET_CONFIGS / ANY_CHECKPOINT[base]).read_text().count('\n_base_ = ') == 1
    model = _build(tiny_config(base))
    with pytest.raises(ValueError, match=r'no checkpoint.*--cfg-options '
                                         r'model\.backbone\.init_cfg\.checkpoint=PATH'):
        model.init_weights()
