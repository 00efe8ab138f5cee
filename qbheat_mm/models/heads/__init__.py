"""Heads."""
from .mobile_former_cls_head import MobileFormerClsHead
from .qbheat_head import QBHeatHead
from .transformer_probe_head import TransformerProbeHead

__all__ = ['MobileFormerClsHead', 'QBHeatHead', 'TransformerProbeHead']
