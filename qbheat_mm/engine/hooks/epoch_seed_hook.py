"""Reseed every rank at the start of every training epoch, so that ``--resume`` reproduces.

MMEngine (0.10.7) seeds the random generators once, when the Runner starts, and a resumed
run starts over from that seed: everything random after the checkpoint (MoCo-v2's batch
shuffle, drop path, augmentations drawn in the main process) then differs from the
uninterrupted run. Drawing each epoch's seed from ``(runner.seed, epoch)`` makes the state
of every generator at the start of an epoch independent of the history before it, so a
run resumed from an epoch checkpoint continues exactly as the uninterrupted run did.

``runner.seed`` already includes the rank offset when ``randomness.diff_rank_seed`` is
set, so ranks share or differ in their random streams as configured.

Not covered: persistent dataloader workers (their generators continue from epoch to epoch
and restart after a resume; mmengine reseeds non-persistent workers every epoch with the
same seed) and iteration-based loops (one "epoch"; a resumed run still restarts from the
seed). :class:`~qbheat_mm.engine.runner.AtomicCheckpointRunner`, the Runner every
project config names, registers it for every run, so MMPretrain's and MMDetection's own
``tools/train.py`` reseed too; ``tools/train.py`` adds it to any other Runner.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['EpochSeedHook', 'epoch_seed']


def epoch_seed(seed: int, epoch: int) -> int:
    """A 32-bit seed for ``epoch`` of a run seeded with ``seed`` (well mixed, so that
    nearby seeds and epochs give unrelated streams)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU) with
    :func:`epoch_seed` before each training epoch; a no-op for an unseeded run."""

    priority = 'HIGHEST'  # before anything else draws random numbers in the epoch

    def before_train_epoch(self, runner) -> None:
        if runner.seed is None:
            return
        seed = epoch_seed(runner.seed, runner.epoch)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # also seeds every CUDA device
