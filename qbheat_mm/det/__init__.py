"""MMDetection-only components; detection configs import ``qbheat_mm.det`` explicitly.

Datasets register into ``mmdet.registry.DATASETS`` (they subclass MMDetection's
``CocoDataset``), so detection configs use them by their plain names. Detection configs
initialise the backbone with ``StrictPretrained``, so its registration is imported here too:
MMDetection's own tools import nothing of ours but the config's ``custom_imports``.
"""
from qbheat_mm.utils import checkpoint  # noqa: F401  (registers StrictPretrained)
from .checked_coco_dataset import CheckedCOCO, CheckedCocoDataset
from .coco_checks import check_coco_annotations
from .demo_coco import DEMO_CLASSES, demo_ann_file, prepare_demo_coco
from .demo_coco_dataset import DemoCocoDataset

__all__ = ['CheckedCOCO', 'CheckedCocoDataset', 'DemoCocoDataset', 'DEMO_CLASSES',
           'check_coco_annotations', 'demo_ann_file', 'prepare_demo_coco']
