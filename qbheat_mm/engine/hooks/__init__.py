"""Hooks registered in ``mmpretrain.registry.HOOKS``."""
from .qbheat_visualization_hook import QBHeatVisualizationHook

__all__ = ['QBHeatVisualizationHook']
