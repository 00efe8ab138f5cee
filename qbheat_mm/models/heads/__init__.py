"""Heads."""
from .qbheat_head import QBHeatHead
from .transformer_probe_head import TransformerProbeHead

__all__ = ['QBHeatHead', 'TransformerProbeHead']
