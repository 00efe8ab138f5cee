"""MMDetection-only components; detection configs import ``qbheat_mm.det`` explicitly.

The detectors' fallbacks for GPUs without mmcv's CUDA kernels (a PyTorch focal loss, a
RetinaNet head with torchvision's NMS) are in :mod:`.fallbacks`.

Datasets register into ``mmdet.registry.DATASETS`` (they subclass MMDetection's
``CocoDataset``), so detection configs use them by their plain names. Detection configs
initialise the backbone with ``StrictPretrained``, so its registration is imported here too:
MMDetection's own tools import nothing of ours but the config's ``custom_imports``.

Importing it without mmcv's compiled ops (the main job's set-up level) stops at once with
the one command that builds them, before MMDetection's own import fails on ``mmcv._ext``.
"""
from qbheat_mm.utils.mmcv_ops import require_mmcv_ops

require_mmcv_ops('qbheat_mm.det (a detection config or tool)')

from qbheat_mm.utils import checkpoint  # noqa: F401,E402  (registers StrictPretrained)
from .checked_coco_dataset import CheckedCOCO, CheckedCocoDataset  # noqa: E402
from .coco_checks import check_coco_annotations  # noqa: E402
from .demo_coco import DEMO_CLASSES, demo_ann_file, prepare_demo_coco  # noqa: E402
from .demo_coco_dataset import DemoCocoDataset  # noqa: E402
from .fallbacks import TorchNMSRetinaHead, TorchSigmoidFocalLoss, batched_nms  # noqa: E402

__all__ = ['CheckedCOCO', 'CheckedCocoDataset', 'DemoCocoDataset', 'DEMO_CLASSES',
           'TorchNMSRetinaHead', 'TorchSigmoidFocalLoss', 'batched_nms',
           'check_coco_annotations', 'demo_ann_file', 'prepare_demo_coco']
