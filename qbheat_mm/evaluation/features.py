"""Frozen feature maps of a backbone, extracted once per layer and BatchNorm regime.

The probes of :mod:`qbheat_mm.evaluation.probe_protocol` read these instead of running
the backbone again in every epoch. A **regime** says which BatchNorm statistics the
frozen backbone normalises with, and at which size it sees the images:

- ``'saved'``: the running statistics the checkpoint holds (for a random init, the
  defaults: mean 0, variance 1, so every BatchNorm is the identity); the full image;
- ``'recalibrated'``: statistics re-estimated on the probe's training images at the
  probe's size (a precise-BN pass: every BatchNorm's running statistics reset, then the
  cumulative average over one pass; nothing else changes), the same for every row;
- ``'quarters'``: the saved statistics, each image encoded as its four quarters (the
  input size QB-Heat pre-trains on), their maps tiled back into the image's grid: the
  input distribution a quarter-trained encoder has seen.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..models.utils.quarters import image_quarters

__all__ = ['REGIMES', 'recalibrate_bn', 'extract_maps']

REGIMES = ('saved', 'recalibrated', 'quarters')


@torch.no_grad()
def recalibrate_bn(backbone: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Re-estimate every BatchNorm's running statistics of ``backbone`` on ``batches``
    (cumulative average over one pass, everything else in eval mode); returns the number
    of BatchNorm layers. The backbone is left in eval mode."""
    norms = [m for m in backbone.modules() if isinstance(m, _BatchNorm)]
    momenta = [m.momentum for m in norms]
    backbone.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch weighs the same
        m.train()
    seen = 0
    for x in batches:
        backbone(x)
        seen += len(x)
    if norms and seen < 2:
        raise ValueError('recalibrating BatchNorm needs at least 2 images, got '
                         f'{seen}')
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    backbone.eval()
    return len(norms)


def _maps(outputs, positions: Sequence[int]) -> list[torch.Tensor]:
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs, )
    maps = [o for o in outputs if o.ndim == 4]
    return [maps[p] for p in positions]


def _tile(q: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([torch.cat([q[0], q[1]], dim=-1), torch.cat([q[2], q[3]], dim=-1)], dim=-2)


@torch.no_grad()
def extract_maps(backbone: nn.Module, batches: Iterable[torch.Tensor],
                 positions: Sequence[int], quarters: bool = False,
                 dtype: torch.dtype = torch.float16) -> list[torch.Tensor]:
    """The backbone's feature maps at ``positions`` (indices into the 4-D maps of its
    output tuple) for every batch, concatenated, on the CPU in ``dtype``; with
    ``quarters`` each image is encoded as its four quarters and their maps tiled."""
    backbone.eval()
    found = [[] for _ in positions]
    for x in batches:
        if quarters:
            if x.shape[-1] % 2 or x.shape[-2] % 2:
                raise ValueError(f'quarters need an even image size, got {tuple(x.shape[-2:])}')
            per_quarter = [_maps(backbone(q), positions) for q in image_quarters(x)]
            maps = [_tile([pq[i] for pq in per_quarter]) for i in range(len(positions))]
        else:
            maps = _maps(backbone(x), positions)
        for store, m in zip(found, maps):
            store.append(m.to('cpu', dtype))
    if not found[0]:
        raise ValueError('no batches: is the dataset empty?')
    return [torch.cat(store) for store in found]
