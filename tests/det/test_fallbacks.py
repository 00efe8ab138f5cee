"""The detection fallbacks (qbheat_mm/det/fallbacks.py) against MMDetection's and mmcv's own
components on the CPU: the same focal loss, the same kept boxes, the same predictions and
losses of a RetinaNet; and every detection config that would reach mmcv's CUDA kernels
names them."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from qbheat_mm.det.fallbacks import TorchSigmoidFocalLoss, batched_nms
from tiny_detectors import DET_CONFIGS

REPO = Path(__file__).resolve().parents[2]


def focal(pred, target, weight=None, gamma=2.0, alpha=0.25):
    """The sigmoid focal loss written out (Lin et al. 2017), per element."""
    p = pred.sigmoid()
    t = torch.nn.functional.one_hot(target, pred.size(1) + 1)[:, :pred.size(1)].float()
    pt = p * t + (1 - p) * (1 - t)
    at = alpha * t + (1 - alpha) * (1 - t)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(pred, t, reduction='none')
    loss = at * (1 - pt) ** gamma * bce
    return loss if weight is None else loss * weight[:, None]


@pytest.mark.parametrize('reduction, avg_factor', [('mean', None), ('sum', None),
                                                   ('mean', 7.0), ('none', None)])
def test_the_focal_loss_is_mmdetections_on_the_cpu(reduction, avg_factor):
    from mmdet.models.losses import FocalLoss

    torch.manual_seed(0)
    pred = torch.randn(50, 4) * 3
    target = torch.randint(0, 5, (50, ))  # 4 is the background
    weight = torch.rand(50)
    mine = TorchSigmoidFocalLoss(loss_weight=2.0, reduction=reduction)
    theirs = FocalLoss(loss_weight=2.0, reduction=reduction)
    a = mine(pred, target, weight, avg_factor=avg_factor)
    b = theirs(pred, target, weight, avg_factor=avg_factor)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    expected = 2.0 * focal(pred, target, weight)
    expected = {'none': expected, 'sum': expected.sum(),
                'mean': expected.sum() / (avg_factor or expected.numel())}[reduction]
    torch.testing.assert_close(a, expected, rtol=1e-5, atol=1e-6)


def boxes(n: int, seed: int, classes: int = 5):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 100
    wh = torch.rand(n, 2, generator=g) * 40 + 2
    b = torch.cat([xy, xy + wh], dim=1)
    return b, torch.rand(n, generator=g), torch.randint(0, classes, (n, ), generator=g)


@pytest.mark.parametrize('cfg', [
    dict(type='nms', iou_threshold=0.5),
    dict(type='nms', iou_threshold=0.3, class_agnostic=True),
    dict(type='nms', iou_threshold=0.6, max_num=40),
    dict(type='nms', iou_threshold=0.5, score_threshold=0.4),
    dict(type='nms', iou_threshold=0.5, split_thr=50),  # mmcv's per-class loop
    dict(type='nms', iou_threshold=0.5, split_thr=50, max_num=20),
])
def test_batched_nms_keeps_what_mmcv_keeps(cfg):
    from mmcv.ops import batched_nms as mmcv_batched_nms

    for seed in range(3):
        b, s, c = boxes(300, seed)
        dets, keep = batched_nms(b, s, c, cfg)
        ref_dets, ref_keep = mmcv_batched_nms(b, s, c, dict(cfg))
        assert keep.tolist() == ref_keep.tolist()
        torch.testing.assert_close(dets, ref_dets)
        assert torch.all(dets[:-1, 4] >= dets[1:, 4])  # by decreasing score


def test_batched_nms_refuses_what_it_does_not_compute():
    b, s, c = boxes(10, 0)
    for cfg in (dict(type='soft_nms', iou_threshold=0.5),
                dict(type='nms', iou_threshold=0.5, offset=1),
                dict(type='nms', iou_threshold=0.5, sigma=0.5)):
        with pytest.raises(ValueError, match='plain NMS config.*QBHEAT_MMCV_OPS=cuda'):
            batched_nms(b, s, c, cfg)


def test_the_demo_retinanet_predicts_and_trains_as_mmdetections(tiny_config):
    """The same weights and images through the config's fallback head and through
    MMDetection's RetinaHead with FocalLoss: the same losses, the same boxes."""
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs

    init_default_scope('mmdet')
    cfg = tiny_config('retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py')
    assert cfg.model.bbox_head.type == 'TorchNMSRetinaHead'
    assert cfg.model.bbox_head.loss_cls.type == 'TorchSigmoidFocalLoss'
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    fallback = MODELS.build(cfg.model).eval()
    stock_cfg = cfg.model.copy()
    stock_cfg.bbox_head = dict(stock_cfg.bbox_head, type='RetinaHead',
                               loss_cls=dict(stock_cfg.bbox_head.loss_cls, type='FocalLoss'))
    stock = MODELS.build(stock_cfg).eval()
    stock.load_state_dict(fallback.state_dict())
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 96, 96), (3, 96, 80)],
                            num_items=[3, 2], num_classes=4)
    data = fallback.data_preprocessor(packed, True)
    with torch.no_grad():
        mine = fallback.loss(data['inputs'], data['data_samples'])
        theirs = stock.loss(data['inputs'], data['data_samples'])
        assert set(mine) == set(theirs)
        for key in mine:
            torch.testing.assert_close(sum(mine[key]) if isinstance(mine[key], list)
                                       else mine[key],
                                       sum(theirs[key]) if isinstance(theirs[key], list)
                                       else theirs[key], rtol=0, atol=1e-6)
        data = fallback.data_preprocessor(packed, False)
        a = fallback.predict(data['inputs'], data['data_samples'])
        b = stock.predict(data['inputs'], data['data_samples'])
    for x, y in zip(a, b):
        assert len(x.pred_instances) > 0
        torch.testing.assert_close(x.pred_instances.bboxes, y.pred_instances.bboxes)
        torch.testing.assert_close(x.pred_instances.scores, y.pred_instances.scores)
        assert x.pred_instances.labels.tolist() == y.pred_instances.labels.tolist()


def test_every_detection_config_names_the_fallbacks():
    """No project detection config reaches mmcv's CUDA focal loss or NMS."""
    for path in sorted(DET_CONFIGS.glob('*.py')):
        model = Config.fromfile(path).model
        head = model.get('bbox_head', {})
        if head.get('type', '').endswith('RetinaHead'):
            assert head['type'] == 'TorchNMSRetinaHead', path.name
        loss = head.get('loss_cls', {})
        if 'Focal' in loss.get('type', ''):
            assert loss['type'] == 'TorchSigmoidFocalLoss', path.name
