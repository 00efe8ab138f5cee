"""qbheat_mm.analysis.heat_inputs: the diagnostics' training size and block step from a
config, and weights that load safely with the operator."""
import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.registry import init_default_scope

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from qbheat_mm import compat
from qbheat_mm.analysis import heat_inputs as hi
from qbheat_mm.utils.checkpoint import CheckpointMismatchError

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'


def test_training_size_and_block_step_from_configs():
    tiny = Config.fromfile(str(TINY_CONFIG))
    demo = Config.fromfile(str(REPO / 'configs' / 'qbheat_mobileformer_demo.py'))
    assert hi.train_img_size(tiny) == 64 and hi.train_img_size(demo) == 128
    assert hi.operator_step('block', 128, 32) == 2  # a 64 px quarter: two cells
    assert hi.operator_step('block', 64, 32) == 1
    assert hi.operator_step('recursive', 128, 32) == 1
    with pytest.raises(ValueError, match='not a multiple of 2 x encoder_stride = 64'):
        hi.operator_step('block', 100, 32)
    with pytest.raises(ValueError, match='pass --operator-step'):
        hi.operator_step('block', None, 32)


@pytest.fixture
def tiny_model():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(str(TINY_CONFIG)).model)


def test_checkpoints_load_without_pickle_and_with_the_operator(tiny_model, tmp_path,
                                                               monkeypatch):
    with torch.no_grad():
        tiny_model.neck.A.fill_(0.25)
    state = tiny_model.state_dict()
    safe = tmp_path / 'tensors.pth'
    torch.save(dict(state_dict=state), safe)
    runner = tmp_path / 'runner.pth'  # what the Runner writes loads without the opt-in
    torch.save(dict(state_dict=state, meta=dict(iter=1, seed=np.int64(0)),
                    message_hub=dict(log_scalars=dict(loss=HistoryBuffer([1.0], [1])))), runner)
    assert hi.read_checkpoint(str(runner))['meta']['iter'] == 1
    unsafe = tmp_path / 'pickle.pth'
    torch.save(dict(state_dict=state, meta=argparse.Namespace(iter=1)), unsafe)
    monkeypatch.delenv(compat.ALLOW_PICKLE_ENV, raising=False)
    with pytest.raises(compat.UnsafeCheckpointError,
                       match=r'holds argparse.Namespace.*--allow-pickle'):
        hi.read_checkpoint(str(unsafe))
    monkeypatch.setenv(compat.ALLOW_PICKLE_ENV, '1')
    assert 'meta' in hi.read_checkpoint(str(unsafe))

    init_default_scope('mmpretrain')
    fresh = MODELS.build(Config.fromfile(str(TINY_CONFIG)).model)
    info = hi.load_weights(fresh, hi.read_checkpoint(str(safe)))
    assert info == dict(prefix='backbone.', backbone_keys=len(tiny_model.backbone.state_dict()),
                        operator='loaded')
    assert float(fresh.neck.A.detach().mean()) == 0.25
    for key, value in tiny_model.backbone.state_dict().items():
        assert torch.equal(fresh.backbone.state_dict()[key], value)

    bare = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    info = hi.load_weights(fresh, bare)
    assert info['operator'] == 'none: the checkpoint has no neck.A, neck.B'
    bare.pop(next(iter(bare)))
    with pytest.raises(CheckpointMismatchError, match='does not fit ResNet'):
        hi.load_weights(fresh, bare)


def test_the_free_neck_has_no_operator_to_diagnose():
    from torch import nn

    from qbheat_mm.models.necks import HeatExtrapolationNeck
    model = nn.Module()
    model.neck = HeatExtrapolationNeck(in_channels=4, mode='free')
    with pytest.raises(ValueError, match="mode 'free' has no heat operator to diagnose"):
        hi.heat_operator(model, step=1)
