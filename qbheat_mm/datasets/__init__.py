"""Datasets registered in ``mmpretrain.registry.DATASETS``."""
from .demo_photos import DemoPhotoDataset, prepare_demo_photos

__all__ = ['DemoPhotoDataset', 'prepare_demo_photos']
