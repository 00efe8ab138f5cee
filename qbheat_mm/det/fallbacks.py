"""Detection components that need none of mmcv's CUDA kernels, which the project's detection
configs name so that they run on a GPU with mmcv's CPU-only ops (a machine without a CUDA
toolkit, scripts/setup.sh) as on the CPU.

MMDetection 3.3 reaches mmcv's compiled CUDA ops in two places on a RetinaNet's path:
``FocalLoss`` calls ``mmcv.ops.sigmoid_focal_loss`` for every CUDA tensor, and the dense
heads' post-processing calls ``mmcv.ops.batched_nms``. These are components, not patches:

- :class:`TorchSigmoidFocalLoss`: MMDetection's ``FocalLoss`` always computed by its own
  PyTorch implementation (``py_sigmoid_focal_loss``), the path it already takes on the CPU;
- :func:`batched_nms`: ``mmcv.ops.batched_nms``'s contract (per-class NMS, the kept boxes
  with their scores sorted by score, ``max_num``) on ``torchvision.ops``, whose wheel
  ships CPU and CUDA kernels;
- :class:`TorchNMSRetinaHead`: MMDetection's ``RetinaHead`` whose post-processing keeps
  everything of MMDetection's (rescaling, score factors, the minimum box size,
  ``max_per_img``) and runs :func:`batched_nms` for the NMS.

On the CPU they give MMDetection's losses and boxes (tested), so a config that names them
scores as before. With mmcv's CUDA ops (``QBHEAT_MMCV_OPS=cuda``) the stock ``FocalLoss``
and ``RetinaHead`` may be named again to use mmcv's kernels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from mmdet.models.dense_heads import RetinaHead
from mmdet.models.losses import FocalLoss
from mmdet.registry import MODELS
from mmdet.structures.bbox import get_box_tensor

__all__ = ['TorchSigmoidFocalLoss', 'TorchNMSRetinaHead', 'batched_nms']

#: The keys of an NMS config :func:`batched_nms` understands (mmcv's plain ``nms``).
NMS_KEYS = {'type', 'iou_threshold', 'class_agnostic', 'split_thr', 'max_num', 'offset',
            'score_threshold'}


@MODELS.register_module()
class TorchSigmoidFocalLoss(FocalLoss):
    """MMDetection's sigmoid ``FocalLoss`` (same arguments), computed in PyTorch on every
    device: class-index targets become one-hot targets (the background index, K, an
    all-zero row) before MMDetection's own computation, which then takes its PyTorch path
    instead of mmcv's CUDA kernel."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor, weight=None,
                avg_factor=None, reduction_override=None) -> torch.Tensor:
        if self.use_sigmoid and not self.activated and pred.dim() != target.dim():
            num_classes = pred.size(1)
            target = F.one_hot(target, num_classes=num_classes + 1)[:, :num_classes]
        return super().forward(pred, target, weight, avg_factor, reduction_override)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor,
                nms_cfg: dict, class_agnostic: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-maximum suppression per class (``idxs``), as ``mmcv.ops.batched_nms`` with a
    plain ``nms`` config, on torchvision's kernels.

    Args:
        boxes: (N, 4) boxes (x1, y1, x2, y2).
        scores: (N,) scores.
        idxs: (N,) the class of each box; boxes of different classes never suppress each
            other unless ``class_agnostic``.
        nms_cfg: ``dict(type='nms', iou_threshold=..., class_agnostic=False,
            max_num=-1, score_threshold=0, split_thr=...)`` (``split_thr`` only chooses how
            mmcv computes the same result; ``offset`` must be 0, as in mmcv 2).

    Returns:
        ``(dets, keep)``: (K, 5) kept boxes with their scores last, sorted by decreasing
        score, and their indices into ``boxes``.
    """
    cfg = dict(nms_cfg)
    unknown = sorted(set(cfg) - NMS_KEYS)
    if unknown or cfg.get('type', 'nms') != 'nms' or cfg.get('offset', 0) != 0:
        raise ValueError(f'batched_nms (torchvision) takes a plain NMS config '
                         f"(type='nms', iou_threshold, class_agnostic, max_num, "
                         f'score_threshold), got {nms_cfg}; for soft-NMS or offset 1 name '
                         "MMDetection's RetinaHead and build mmcv's CUDA ops "
                         '(QBHEAT_MMCV_OPS=cuda)')
    class_agnostic = cfg.get('class_agnostic', class_agnostic)
    candidates = torch.arange(len(scores), device=scores.device)
    if cfg.get('score_threshold', 0) > 0:
        candidates = candidates[scores > cfg['score_threshold']]
    b, s = boxes[candidates].float(), scores[candidates].float()
    if class_agnostic:
        order = torchvision.ops.nms(b, s, float(cfg['iou_threshold']))
    else:
        order = torchvision.ops.batched_nms(b, s, idxs[candidates],
                                            float(cfg['iou_threshold']))
    keep = candidates[order]
    if cfg.get('max_num', -1) > 0:
        keep = keep[:cfg['max_num']]
    return torch.cat([boxes[keep], scores[keep, None]], dim=-1), keep


@MODELS.register_module()
class TorchNMSRetinaHead(RetinaHead):
    """MMDetection's ``RetinaHead`` (same arguments) whose NMS runs on torchvision
    (:func:`batched_nms`): MMDetection's post-processing without its NMS, then the NMS and
    the ``max_per_img`` cut as MMDetection applies them."""

    def _bbox_post_process(self, results, cfg, rescale: bool = False, with_nms: bool = True,
                           img_meta: dict | None = None):
        results = super()._bbox_post_process(results, cfg, rescale=rescale, with_nms=False,
                                             img_meta=img_meta)
        if with_nms and results.bboxes.numel() > 0:
            dets, keep = batched_nms(get_box_tensor(results.bboxes), results.scores,
                                     results.labels, cfg.nms)
            results = results[keep]
            results.scores = dets[:, -1]
            results = results[:cfg.max_per_img]
        return results
