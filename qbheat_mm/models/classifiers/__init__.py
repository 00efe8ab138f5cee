"""Classifiers registered in ``mmpretrain.registry.MODELS``."""
from .knn_classifier import KNNClassifier

__all__ = ['KNNClassifier']
