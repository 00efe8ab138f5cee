"""The tran-1 probe trained to a stopping rule on cached feature maps.

The head is the project's :class:`~qbheat_mm.models.heads.TransformerProbeHead` (the
paper's "tran-1": the map's cells as tokens, one transformer block, mean pool, linear),
trained on frozen maps extracted once. Part of the training split (``holdout``, drawn per
class) is held out; the head trains on the rest with AdamW at a constant learning rate,
one pass per epoch, and is scored on the held-out part after every epoch. Training stops
when the held-out accuracy has not improved for ``patience`` epochs (or after
``max_epochs``); the weights of the best held-out epoch (ties: the lower held-out
cross-entropy) are scored once on the test images. The held-out part, the order of the
batches and the head's initialisation are drawn from ``seed``.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope

__all__ = ['tran1_probe']


def _holdout(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        held += list(members[:max(1, round(share * len(members)))])
    held = np.sort(np.array(held, dtype=int))
    return np.setdiff1d(np.arange(len(y)), held), held


@torch.no_grad()
def _score(head, maps: torch.Tensor, y: torch.Tensor, batch: int) -> tuple[float, float]:
    head.eval()
    logits = torch.cat([head((maps[i:i + batch], )) for i in range(0, len(maps), batch)])
    return (float((logits.argmax(1) == y).float().mean() * 100),
            float(F.cross_entropy(logits, y)))


def tran1_probe(train_maps: torch.Tensor, train_y: np.ndarray, test_maps: torch.Tensor,
                test_y: np.ndarray, num_classes: int, head: dict, lr: float = 5e-4,
                weight_decay: float = 0.05, batch_size: int = 64, holdout: float = 0.2,
                patience: int = 20, max_epochs: int = 200, seed: int = 0) -> dict:
    """Top-1 (%) on the test maps of the early-stopped tran-1 head (module docstring).

    Args:
        train_maps, test_maps: N x C x h x w frozen maps.
        train_y, test_y: Their integer labels.
        num_classes: K.
        head: Keyword arguments of ``TransformerProbeHead`` other than ``num_classes``
            and ``in_channels`` (``embed_dims``, ``num_heads``, ``norm_input``, ...).
        lr, weight_decay, batch_size: AdamW, constant learning rate.
        holdout: Share of each class of the training split held out for stopping.
        patience, max_epochs: The stopping rule.
        seed: Draws the held-out part, the batches and the head's initialisation.

    Returns:
        dict(top1, best_epoch, epochs (run), holdout_top1, holdout_loss, stopped
        ('patience' or 'max_epochs')).
    """
    from qbheat_mm.models.heads import TransformerProbeHead
    from qbheat_mm.utils.quiet import init_weights_quietly

    torch.manual_seed(seed)
    train_maps = train_maps.float()
    test_maps = test_maps.float()
    fit_idx, held_idx = _holdout(np.asarray(train_y), holdout, seed)
    ty = torch.as_tensor(np.asarray(train_y), dtype=torch.long)
    fit_x, fit_y = train_maps[fit_idx], ty[fit_idx]
    held_x, held_y = train_maps[held_idx], ty[held_idx]
    # the head builds its loss from MMPretrain's registry, whatever scope a caller left
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = TransformerProbeHead(num_classes=num_classes,
                                     in_channels=train_maps.shape[1], **head)
    init_weights_quietly(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    best = dict(top1=-1., loss=float('inf'), epoch=0, state=None)
    epoch, stopped = 0, 'max_epochs'
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.randperm(len(fit_x), generator=generator)
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            if len(index) < 2:  # the input BatchNorm needs two samples
                continue
            loss = F.cross_entropy(model((fit_x[index], )), fit_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        top1, held_loss = _score(model, held_x, held_y, 256)
        if (top1, -held_loss) > (best['top1'], -best['loss']):
            best = dict(top1=top1, loss=held_loss, epoch=epoch,
                        state=copy.deepcopy(model.state_dict()))
        elif epoch - best['epoch'] >= patience:
            stopped = 'patience'
            break
    model.load_state_dict(best['state'])
    test_top1, _ = _score(model, test_maps,
                          torch.as_tensor(np.asarray(test_y), dtype=torch.long), 256)
    return dict(top1=test_top1, best_epoch=best['epoch'], epochs=epoch,
                holdout_top1=best['top1'], holdout_loss=best['loss'], stopped=stopped)
