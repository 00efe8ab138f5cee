"""Metrics registered in ``mmpretrain.registry.METRICS``."""
from .reconstruction_metric import ReconstructionMetric

__all__ = ['ReconstructionMetric']
