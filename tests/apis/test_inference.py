"""qbheat_mm.apis.init_model: the one way the tools build a model and load its weights,
strictly and safely."""
import argparse
from pathlib import Path

import pytest
import torch

from qbheat_mm import compat
from qbheat_mm.apis import init_model
from qbheat_mm.utils import CheckpointMismatchError

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = str(REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py')


@pytest.fixture
def trained(tmp_path):
    """A tiny QB-Heat with distinctive weights, saved as a Runner would (under
    ``state_dict``) and as an extracted backbone (bare keys)."""
    torch.manual_seed(0)
    model = init_model(TINY_CONFIG)
    with torch.no_grad():
        model.neck.A.fill_(0.25)
        for p in model.backbone.parameters():
            p.add_(1.0)
    full, bare = tmp_path / 'full.pth', tmp_path / 'backbone.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=4)), full)
    torch.save({k[len('backbone.'):]: v for k, v in model.state_dict().items()
                if k.startswith('backbone.')}, bare)
    return model, str(full), str(bare)


def test_the_whole_model_loads_strictly_in_eval_mode_with_its_config(trained):
    model, full, _ = trained
    loaded = init_model(TINY_CONFIG, full)
    assert not loaded.training and loaded.cfg.model.type == 'QBHeat'
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_backbone_only_from_a_full_checkpoint_or_an_extracted_one(trained):
    model, full, bare = trained
    for path in (full, bare):
        backbone = init_model(TINY_CONFIG, path, backbone_only=True)
        assert type(backbone).__name__ == 'ResNet' and not backbone.training
        for key, value in model.backbone.state_dict().items():
            assert torch.equal(backbone.state_dict()[key], value), (path, key)


def test_a_checkpoint_that_does_not_fit_is_refused_with_the_way_on(trained, tmp_path):
    _, full, bare = trained
    with pytest.raises(CheckpointMismatchError,
                       match=r'(?s)backbone.pth does not fit QBHeat: .*missing in checkpoint .*'
                       r'holds a backbone only \(an extracted backbone\).*'
                       r'init_model\(CONFIG, CHECKPOINT, backbone_only=True\)'):
        init_model(TINY_CONFIG, bare)
    state = torch.load(full, weights_only=True)['state_dict']
    state.pop('neck.A')
    state['neck.C'] = torch.zeros(1)
    partial = tmp_path / 'partial.pth'
    torch.save(state, partial)
    with pytest.raises(CheckpointMismatchError, match=r'missing in checkpoint \(1\): neck.A\n'
                       r'  unexpected in checkpoint \(1\): neck.C\n'):
        init_model(TINY_CONFIG, str(partial))
    with pytest.raises(FileNotFoundError, match='checkpoint not found: nope.pth'):
        init_model(TINY_CONFIG, 'nope.pth')
    with pytest.raises(FileNotFoundError, match='config file not found: nope.py'):
        init_model('nope.py')


def test_no_code_runs_from_the_file_without_the_opt_in(trained, tmp_path, monkeypatch):
    model, _, _ = trained
    unsafe = tmp_path / 'unsafe.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=argparse.Namespace(iter=1)), unsafe)
    monkeypatch.delenv(compat.ALLOW_PICKLE_ENV, raising=False)
    with pytest.raises(compat.UnsafeCheckpointError, match='argparse.Namespace'):
        init_model(TINY_CONFIG, str(unsafe))
    monkeypatch.setenv(compat.ALLOW_PICKLE_ENV, '1')
    assert init_model(TINY_CONFIG, str(unsafe)).neck.A.mean() == 0.25


def test_cfg_options_and_a_config_object(trained):
    model = init_model(TINY_CONFIG, cfg_options={'model.neck.mode': 'recursive'})
    assert model.neck.mode == 'recursive'
    again = init_model(model.cfg)
    assert again.neck.mode == 'recursive' and again.cfg is not model.cfg


def test_a_project_config_by_name_and_a_name_that_is_none():
    model = init_model('qbheat_mm::qbheat/qbheat_mobileformer-294m_1xb16-800i_demo-photos.py')
    assert model.cfg.filename.endswith('configs/qbheat/qbheat_mobileformer-294m_1xb16-800i_'
                                       'demo-photos.py')
    with pytest.raises(FileNotFoundError, match=r"config 'qbheat_mm::qbheat/nope.py' not "
                       r'found: no .*configs/qbheat/nope.py \(names are relative to the '
                       r"project's configs/"):
        init_model('qbheat_mm::qbheat/nope.py')
