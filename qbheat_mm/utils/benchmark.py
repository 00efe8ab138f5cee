"""Timing and memory primitives of the benchmarks, and the parts of a QB-Heat step.

Every number comes from the same process, model, batch and device, measured in turn, so
the ratios (quarter vs full-image encoding, neck share of a step) are comparable; absolute
times are only meaningful for the machine that printed them. The peer comparison
(:mod:`qbheat_mm.apis.benchmark`) builds on the same primitives.
"""
from __future__ import annotations

import ctypes
import re
import statistics
import time
from typing import Callable, Dict, Optional

import torch
from torch import nn

__all__ = ['time_fn', 'time_interleaved', 'step_memory_mb', 'benchmark_qbheat']


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], None], device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return (time.perf_counter() - start) * 1e3


def time_fn(fn: Callable[[], None], device: torch.device, iters: int,
            warmup: int) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``iters`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = sorted(_timed(fn, device) for _ in range(iters))
    return times[len(times) // 2]


def time_interleaved(fns: Dict[str, Callable[[], None]], device: torch.device,
                     rounds: int, warmup: int = 1) -> Dict[str, dict]:
    """Time several functions side by side: one call of each per round, interleaved.

    Round r calls the functions in the given order rotated by r, so no function always
    runs first (after a cold cache) or right after the same neighbour; a slow phase of a
    shared machine then lands on every function alike instead of on one of them.

    Args:
        fns (dict[str, callable]): Name -> function to time.
        device (torch.device): Synchronised around every call on CUDA.
        rounds (int): Timed rounds (>= 1).
        warmup (int): Untimed calls of each function first.

    Returns:
        dict[str, dict]: Name -> ``median_ms`` and the list ``times_ms``, in call order.
    """
    if rounds < 1:
        raise ValueError(f'rounds must be >= 1, got {rounds}')
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    times: Dict[str, list] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(_timed(fns[name], device))
    return {name: dict(median_ms=statistics.median(t), times_ms=t)
            for name, t in times.items()}


def _status_kib(key: str) -> int:
    with open('/proc/self/status') as f:
        return int(re.search(rf'^{key}:\s+(\d+) kB', f.read(), re.M).group(1))


def _reset_peak_rss() -> bool:
    """Return freed heap to the OS and reset the kernel's peak RSS (Linux >= 4.0)."""
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def step_memory_mb(fn: Callable[[], None], device: torch.device) -> Optional[float]:
    """Memory one call of ``fn()`` needs above what was allocated before it, in MiB.

    On CUDA: peak allocated during the call minus allocated before it. On the CPU: the
    process's peak resident set during the call (``VmHWM``, reset first through
    ``/proc/self/clear_refs``) minus its resident set before it, after returning freed
    heap to the OS. Both count activations, gradients (when ``fn`` sets them to None
    first) and temporaries, not weights or optimizer state that already exist. None
    where the CPU peak cannot be reset (not Linux).
    """
    if device.type == 'cuda':
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        _sync(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    if not _reset_peak_rss():
        return None
    before = _status_kib('VmRSS')
    fn()
    return max(_status_kib('VmHWM') - before, 0) / 1024


def _fwd_bwd(module: Callable, x: torch.Tensor, params: list[nn.Parameter],
             **kwargs) -> Callable:
    """fn() running module(x) forward and backward (sum of the output), grads zeroed."""

    def fn():
        for p in params:
            p.grad = None
        out = module(x, **kwargs)
        out = out[-1] if isinstance(out, (tuple, list)) else out
        out.float().sum().backward()

    return fn


def qbheat_part_fns(model: nn.Module, x: torch.Tensor) -> Dict[str, Callable[[], None]]:
    """Forward + backward of the parts of a QB-Heat step on batch ``x``, as functions.

    ``encoder_quarter`` (the encoder on the visible quarter: the floor of any step),
    ``encoder_full`` (the same encoder on the whole image, what an approach that encodes
    every pixel pays), ``neck`` and ``decoder`` (on detached inputs, the decoder as the
    loss calls it: without the visible quarter when the loss is masked).
    """
    model.check_geometry(x)
    params = [p for p in model.parameters() if p.requires_grad]
    H, W = x.shape[-2:]
    quarter = x[..., :H // 2, :W // 2].contiguous()
    with torch.no_grad():
        z = model.encode_visible(x)
        full_map = model.neck(z)
    z = z.detach().requires_grad_(True)
    full_map = full_map.detach().requires_grad_(True)
    decode_visible = model.head.loss_region != 'masked'
    return dict(
        encoder_quarter=_fwd_bwd(model.backbone, quarter, params),
        encoder_full=_fwd_bwd(model.backbone, x, params),
        neck=_fwd_bwd(model.neck, z, params),
        decoder=_fwd_bwd(model.decoder, full_map, params, decode_visible=decode_visible))


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
        ``encoder_quarter``, ``encoder_full``, ``neck``, ``decoder`` (see
        :func:`qbheat_part_fns`); the ratios ``encoder_quarter_over_full``,
        ``neck_share_of_step`` and ``neck_decoder_share_of_step``; ``images_per_s``; and
        ``peak_memory_mb`` of a step on CUDA (None on the CPU).
    """
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    x = torch.randn(batch_size, 3, img_size, img_size, device=device)
    parts = qbheat_part_fns(model, x)

    def step():
        for p in params:
            p.grad = None
        sum(model.loss(x).values()).backward()

    result = dict(step=time_fn(step, device, iters, warmup))
    result.update({name: time_fn(fn, device, iters, warmup) for name, fn in parts.items()})
    result['encoder_quarter_over_full'] = result['encoder_quarter'] / result['encoder_full']
    result['neck_share_of_step'] = result['neck'] / result['step']
    result['neck_decoder_share_of_step'] = (result['neck'] + result['decoder']) / result['step']
    result['images_per_s'] = batch_size / (result['step'] / 1e3)
    result['peak_memory_mb'] = None
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        step()
        _sync(device)
        result['peak_memory_mb'] = torch.cuda.max_memory_allocated(device) / 2**20
    return result
