"""EpochSeedHook: each epoch's random streams depend only on (seed, epoch), the history
before the epoch does not matter, and an unseeded run is left alone."""
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.registry import HOOKS

from qbheat_mm.engine.hooks import EpochSeedHook, epoch_seed


def draws() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_epoch_streams_ignore_what_came_before():
    hook = EpochSeedHook()
    runner = SimpleNamespace(seed=7, epoch=3)
    hook.before_train_epoch(runner)
    first = draws()
    draws(), torch.randperm(100)  # the rest of epoch 3, e.g. MoCo's batch shuffle
    hook.before_train_epoch(runner)  # a run resumed at epoch 3 from another history
    assert draws() == first
    hook.before_train_epoch(SimpleNamespace(seed=7, epoch=4))
    assert draws() != first
    hook.before_train_epoch(SimpleNamespace(seed=8, epoch=3))  # e.g. the next rank
    assert draws() != first


def test_epoch_seed_is_a_32_bit_mix():
    seeds = {epoch_seed(s, e) for s in range(4) for e in range(4)}
    assert len(seeds) == 16 and all(0 <= s < 2**32 for s in seeds)
    assert epoch_seed(0, 1) == epoch_seed(0, 1)


def test_unseeded_run_is_left_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    EpochSeedHook().before_train_epoch(SimpleNamespace(seed=None, epoch=0))
    assert torch.equal(torch.rand(3), expected)


def test_registered_and_first_in_an_epoch():
    assert HOOKS.get('EpochSeedHook') is EpochSeedHook
    assert EpochSeedHook.priority == 'HIGHEST'
