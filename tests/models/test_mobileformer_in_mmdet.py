"""MobileFormer inside MMDetection: ``type='mmpretrain.MobileFormer'`` in the upstream
RetinaNet (FPN on out_indices (1, 2, 4)) and DETR (ChannelMapper on (4, )) configs; loss
and predict run on 64 px images with a tiny arch."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import DefaultScope

from qbheat_mm.models.backbones import MobileFormer

# Strides 4 / 8 / 16 / 32 after the stride-2 stem; out channels (8, 16, 16, 32, 192).
TINY_ARCH = dict(stem_channels=8, num_tokens=2, token_dims=16,
                 blocks=[('lite', 8, 16, 2), ('down', 16, (16, 32), 2),
                         ('mf', 16, 32, 1), ('down', 16, (32, 32), 2),
                         ('down', 32, (32, 64), 2)])


def mobile_former(out_indices: tuple) -> dict:
    return dict(type='mmpretrain.MobileFormer', arch=TINY_ARCH, out_indices=out_indices,
                frozen_stages=0, norm_eval=True)


def retinanet() -> Config:
    cfg = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py')
    cfg.model.backbone = mobile_former((1, 2, 4))  # strides 8, 16, 32
    cfg.model.neck.update(in_channels=[16, 16, 192], start_level=0, out_channels=32)
    cfg.model.bbox_head.update(in_channels=32, feat_channels=32, stacked_convs=1)
    cfg.model.test_cfg.score_thr = 0.  # an untrained detector scores low
    return cfg


def detr() -> Config:
    cfg = get_config('mmdet::detr/detr_r50_8xb2-150e_coco.py')
    cfg.model.backbone = mobile_former((4, ))
    cfg.model.neck.in_channels = [192]
    cfg.model.num_queries = cfg.model.test_cfg.max_per_img = 10
    for coder in (cfg.model.encoder, cfg.model.decoder):
        coder.num_layers = 1
        coder.layer_cfg.ffn_cfg.feedforward_channels = 64
    return cfg


@pytest.fixture(autouse=True)
def mmdet_scope():
    register_all_modules(init_default_scope=False)
    # Scoped, so the 'mmdet' default scope does not leak into other tests.
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


@pytest.mark.parametrize('make_cfg,detector', [(retinanet, 'RetinaNet'), (detr, 'DETR')])
def test_loss_and_predict(make_cfg, detector):
    torch.manual_seed(0)
    model = MODELS.build(make_cfg().model)
    model.init_weights()
    assert type(model).__name__ == detector
    assert isinstance(model.backbone, MobileFormer)
    packed = demo_mm_inputs(batch_size=2, image_shapes=(3, 64, 64), num_classes=80)

    model.train()
    losses = model(**model.data_preprocessor(packed, True), mode='loss')
    total = sum(v.sum() if torch.is_tensor(v) else sum(v)
                for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    # frozen_stages=0: tokens and stem stay fixed, the blocks learn
    assert model.backbone.tokens.grad is None
    assert model.backbone.blocks[-1].pw2.conv.weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(packed, False), mode='predict')
    assert len(preds) == 2
    boxes = preds[0].pred_instances.bboxes
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes) > 0
    assert len(preds[0].pred_instances.scores) == len(boxes)
