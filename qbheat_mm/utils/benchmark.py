"""Side-by-side timing of one QB-Heat training step and of its parts.

Every number comes from the same process, model, batch and device, measured in turn, so
the ratios (quarter vs full-image encoding, neck share of a step) are comparable; absolute
times are only meaningful for the machine that printed them.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

__all__ = ['time_fn', 'benchmark_qbheat']


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_fn(fn: Callable[[], None], device: torch.device, iters: int,
            warmup: int) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``iters`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def _fwd_bwd(module: Callable, x: torch.Tensor, params: list[nn.Parameter]) -> Callable:
    """fn() running module(x) forward and backward (sum of the output), grads zeroed."""

    def fn():
        for p in params:
            p.grad = None
        out = module(x)
        out = out[-1] if isinstance(out, (tuple, list)) else out
        out.float().sum().backward()

    return fn


def benchmark_qbheat(model: nn.Module, img_size: int = 256, batch_size: int = 32,
                     iters: int = 10, warmup: int = 3) -> dict:
    """Time a QB-Heat training step and its parts (forward + backward each).

    Args:
        model (nn.Module): A built :class:`~qbheat_mm.models.algorithms.QBHeat`, already
            on its device, in train mode.
        img_size (int): Square input size (a multiple of 2 x encoder stride).
        batch_size (int): Images per step.
        iters (int): Timed repetitions (the median is reported).
        warmup (int): Untimed repetitions first.

    Returns:
        dict: Milliseconds per step for ``step`` (the whole loss + backward),
        ``encoder_quarter``, ``encoder_full`` (the same encoder on the whole image, what
        an approach that encodes every pixel pays), ``neck``, ``decoder``; the ratios
        ``encoder_quarter_over_full`` and ``neck_share_of_step``; ``images_per_s``; and
        ``peak_memory_mb`` of a step on CUDA (None on the CPU).
    """
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    x = torch.randn(batch_size, 3, img_size, img_size, device=device)
    model.check_geometry(x)
    quarter = x[..., :img_size // 2, :img_size // 2].contiguous()
    with torch.no_grad():
        z = model.encode_visible(x)
        full_map = model.neck(z)
    z = z.detach().requires_grad_(True)
    full_map = full_map.detach().requires_grad_(True)

    def step():
        for p in params:
            p.grad = None
        sum(model.loss(x).values()).backward()

    result = dict(
        step=time_fn(step, device, iters, warmup),
        encoder_quarter=time_fn(_fwd_bwd(model.backbone, quarter, params), device, iters,
                                warmup),
        encoder_full=time_fn(_fwd_bwd(model.backbone, x, params), device, iters, warmup),
        neck=time_fn(_fwd_bwd(model.neck, z, params), device, iters, warmup),
        decoder=time_fn(_fwd_bwd(model.decoder, full_map, params), device, iters, warmup),
    )
    result['encoder_quarter_over_full'] = result['encoder_quarter'] / result['encoder_full']
    result['neck_share_of_step'] = result['neck'] / result['step']
    result['images_per_s'] = batch_size / (result['step'] / 1e3)
    result['peak_memory_mb'] = None
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        step()
        _sync(device)
        result['peak_memory_mb'] = torch.cuda.max_memory_allocated(device) / 2**20
    return result
