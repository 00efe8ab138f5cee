"""Metrics registered in ``mmpretrain.registry.METRICS`` and the evaluations that train
nothing in a Runner: the converged probes on cached features (:mod:`.probe_protocol`,
:mod:`.linear_probe`, :mod:`.tran1_probe`, :mod:`.features`). The k-NN vote, which
``KNNClassifier`` and the probes share, is :mod:`qbheat_mm.models.utils.knn`."""
from .reconstruction_metric import ReconstructionMetric

__all__ = ['ReconstructionMetric']
