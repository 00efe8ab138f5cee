"""Fixtures of the detection tests (helpers live in tiny_detectors.py)."""
from typing import Callable

import pytest
from mmengine.config import Config

from tiny_detectors import DET_CONFIGS, save_tiny_pretrain_checkpoint, shrink_to_tiny


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory) -> tuple:
    """(path, backbone state dict without prefix) of a tiny pre-training checkpoint."""
    path = tmp_path_factory.mktemp('pretrain') / 'qbheat_tiny.pth'
    return path, save_tiny_pretrain_checkpoint(path)


@pytest.fixture
def tiny_config() -> Callable[..., Config]:
    def load(name: str, checkpoint=None) -> Config:
        return shrink_to_tiny(Config.fromfile(DET_CONFIGS / name), checkpoint)
    return load
