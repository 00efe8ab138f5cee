"""Metrics registered in ``mmpretrain.registry.METRICS``, and the k-NN evaluation."""
from .knn import extract_features, knn_scores, pooled, top1
from .reconstruction_metric import ReconstructionMetric

__all__ = ['ReconstructionMetric', 'extract_features', 'knn_scores', 'pooled', 'top1']
