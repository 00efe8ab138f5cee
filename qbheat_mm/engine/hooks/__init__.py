"""Hooks registered in ``mmpretrain.registry.HOOKS``."""
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .knn_monitor_hook import KNNMonitorHook
from .qbheat_visualization_hook import QBHeatVisualizationHook

__all__ = ['EpochSeedHook', 'KNNMonitorHook', 'QBHeatVisualizationHook', 'epoch_seed']
