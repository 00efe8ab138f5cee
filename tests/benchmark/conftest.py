"""The tiny QB-Heat of the speed tests, with a heat operator that moves every quarter."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS

TINY_CONFIG = Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'qbheat_tiny.py'


@pytest.fixture(scope='session')
def tiny_cfg() -> dict:
    return Config.fromfile(TINY_CONFIG).model


@pytest.fixture
def tiny_qbheat(tiny_cfg):
    """``make(seed=0, **decoder_overrides)``: the tiny QB-Heat in train mode, A and B
    drawn from N(0, 0.05^2) instead of their zero init, so no two quarters are equal."""

    def make(seed: int = 0, **decoder) -> torch.nn.Module:
        torch.manual_seed(seed)
        cfg = copy.deepcopy(tiny_cfg)
        cfg['decoder'].update(decoder)
        model = MODELS.build(cfg).train()
        with torch.no_grad():
            model.neck.A.normal_(std=0.05)
            model.neck.B.normal_(std=0.05)
        return model

    return make
