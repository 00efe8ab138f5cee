"""The one timing method and the one memory measure of every benchmark.

Timing: the functions compared are called in interleaved rounds (one call of each per
round, the order rotated), and reported as medians and as *paired* ratios (the median over
rounds of the ratio within a round), so a slow phase of a shared machine lands on every
function alike. Memory: what one call allocates above what existed before it
(:func:`step_memory_mb`). Absolute times only mean something for the machine that printed
them; ratios measured side by side in one run are what the docs quote.
"""
from __future__ import annotations

import ctypes
import re
import statistics
import time
from typing import Callable, Dict, Optional, Sequence

import torch

__all__ = ['time_interleaved', 'paired_ratio', 'step_memory_mb']


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], None], device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return (time.perf_counter() - start) * 1e3


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


def paired_ratio(times: Sequence[float], ref_times: Sequence[float]) -> float:
    """Median over rounds of ``times[r] / ref_times[r]`` (both timed in round r)."""
    return statistics.median(t / r for t, r in zip(times, ref_times))


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
