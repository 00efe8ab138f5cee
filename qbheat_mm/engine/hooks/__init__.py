"""Hooks registered in ``mmpretrain.registry.HOOKS``."""
from .knn_monitor_hook import KNNMonitorHook
from .qbheat_visualization_hook import QBHeatVisualizationHook

__all__ = ['KNNMonitorHook', 'QBHeatVisualizationHook']
