"""Weighted k-nearest-neighbour classification of frozen features.

The protocol of the self-supervised literature (Wu et al. 2018, "Unsupervised Feature
Learning via Non-Parametric Instance Discrimination"; DINO): features are L2-normalised,
a query's ``k`` most cosine-similar bank samples vote for their labels with weight
``exp(similarity / temperature)``, and the class with the largest summed weight wins.
Defaults: ``k = 20``, ``temperature = 0.07``. Used by :class:`KNNClassifier` (a model
any probe config can use, scored by MMPretrain's ``Accuracy``), by
:class:`KNNMonitorHook` (during pre-training), by ``tools/analysis/knn_eval.py`` and by
the converged probes (:mod:`qbheat_mm.evaluation.probe_protocol`).
"""
from typing import Callable, Iterable, Tuple

import torch
import torch.nn.functional as F


def knn_scores(bank_feats: torch.Tensor, bank_labels: torch.Tensor,
               query_feats: torch.Tensor, num_classes: int, k: int = 20,
               temperature: float = 0.07, chunk: int = 1024) -> torch.Tensor:
    """Class scores of each query: the summed ``exp(cos / T)`` of its k neighbours.

    Args:
        bank_feats (Tensor): (N, D) labelled features (normalised here).
        bank_labels (Tensor): (N,) integer labels in ``[0, num_classes)``.
        query_feats (Tensor): (Q, D) features to classify (normalised here).
        num_classes (int): Number of classes.
        k (int): Neighbours per query; capped at N. Defaults to 20.
        temperature (float): Softness of the vote. Defaults to 0.07.
        chunk (int): Queries per similarity block (bounds memory).

    Returns:
        Tensor: (Q, num_classes) scores, each row summing to 1.
    """
    if bank_feats.ndim != 2 or query_feats.ndim != 2:
        raise ValueError('features must be (N, D) matrices, got '
                         f'{tuple(bank_feats.shape)} and {tuple(query_feats.shape)}')
    if bank_feats.shape[1] != query_feats.shape[1]:
        raise ValueError(f'bank features have {bank_feats.shape[1]} dims, queries '
                         f'{query_feats.shape[1]}: they come from different backbones')
    if len(bank_labels) != len(bank_feats) or len(bank_feats) == 0:
        raise ValueError(f'{len(bank_feats)} bank features but {len(bank_labels)} labels')
    if k < 1 or temperature <= 0:
        raise ValueError(f'k must be >= 1 and temperature > 0, got {k}, {temperature}')
    labels = bank_labels.long()
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f'bank labels must lie in [0, {num_classes}), got '
                         f'[{int(labels.min())}, {int(labels.max())}]')
    bank = F.normalize(bank_feats.float(), dim=1)
    k = min(k, len(bank))
    out = []
    for start in range(0, len(query_feats), chunk):
        q = F.normalize(query_feats[start:start + chunk].float(), dim=1)
        sim, idx = (q @ bank.t()).topk(k, dim=1)
        # exp((s - s_max) / T): the same normalised vote, without overflow at small T
        weight = ((sim - sim[:, :1]) / temperature).exp()
        scores = torch.zeros(len(q), num_classes, dtype=weight.dtype, device=weight.device)
        scores.scatter_add_(1, labels[idx], weight)
        out.append(scores / scores.sum(dim=1, keepdim=True))
    return torch.cat(out) if out else bank_feats.new_zeros(0, num_classes)


def pooled(features) -> torch.Tensor:
    """(B, D) from a backbone output: its last feature map, global-average pooled.

    A tuple's last (N, C, H, W) map is taken, so tokens a backbone appends after its maps
    (``MobileFormer(with_tokens=True)``) are not mistaken for the map. A lone (N, L, D)
    token tensor is mean-pooled over L, an (N, D) tensor is returned as it is.
    """
    if isinstance(features, (tuple, list)):
        maps = [f for f in features if f.ndim == 4]
        features = maps[-1] if maps else features[-1]
    if features.ndim == 4:
        return features.mean(dim=(2, 3))
    if features.ndim == 3:
        return features.mean(dim=1)
    return features


@torch.no_grad()
def extract_features(backbone: Callable[[torch.Tensor], object], preprocessor: Callable,
                     batches: Iterable[dict]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pooled features (:func:`pooled`) and labels of every labelled batch in ``batches``.

    Each batch goes through ``preprocessor(batch, False)`` (a ``ClsDataPreprocessor``), its
    inputs through ``backbone``; the features and labels come back on the CPU.
    """
    feats, labels = [], []
    for batch in batches:
        data = preprocessor(batch, False)
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]).cpu())
        feats.append(pooled(backbone(data['inputs'])).float().cpu())
    if not feats:
        raise ValueError('the dataloader gave no batches: is the dataset empty?')
    return torch.cat(feats), torch.cat(labels)


def top1(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy in percent."""
    return float((scores.argmax(dim=1) == labels).float().mean() * 100)
