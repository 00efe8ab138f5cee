"""qbheat_mm.compat's checkpoint patch: safe loading by default. Every checkpoint the
project writes (Runner checkpoints of QB-Heat, MoCo-v2, a classifier in
tests/tools/test_train_test.py, a detector in tests/det/test_demo_end_to_end.py; extracted
backbones) loads without running code, a planted executable pickle is refused with a
message naming it and the opt-in, and loads only with the opt-in."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint
from mmpretrain.registry import MODELS

from qbheat_mm import compat
from qbheat_mm.utils import load_backbone_checkpoint, save_backbone_state_dict
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
QBHEAT_TINY = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'
MOCOV2 = REPO / 'configs' / 'mocov2' / 'mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py'
TINY_RESNET = dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
                   out_indices=(3, ))



class PlantedPayload:
    """Unpickling this runs ``os.system`` (touches a marker file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.fixture(autouse=True)
def no_opt_in(monkeypatch):
    # setenv first, so that monkeypatch restores the variable's absence after the test
    # even when the code under test sets it through os.environ.
    monkeypatch.setenv(compat.ALLOW_PICKLE_ENV, '0')
    monkeypatch.delenv(compat.ALLOW_PICKLE_ENV)


@pytest.fixture(scope='module')
def runner_checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Runner checkpoints of the tiny QB-Heat config and a tiny MoCo-v2, 2 iterations each,
    written by tools/train.py."""
    root = tmp_path_factory.mktemp('runner_ckpts')
    train = load_tool('train.py')
    data = dict(data_root=str(root / 'photos'))
    qbheat = Config.fromfile(QBHEAT_TINY)
    qbheat.train_dataloader.dataset.update(data)
    qbheat.val_dataloader.dataset.update(data)
    qbheat.train_cfg.max_iters = 2
    # A scheduler, so that its state is in the checkpoint too.
    qbheat.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False,
                                   begin=0, end=2)]
    qbheat.dump(root / 'qbheat.py')

    moco = Config.fromfile(MOCOV2)
    moco.model.update(queue_len=8, feat_dim=16)
    moco.model.backbone = TINY_RESNET
    moco.model.neck.update(in_channels=64, hid_channels=32, out_channels=16)
    moco.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    moco.train_dataloader.pop('pin_memory')
    moco.train_dataloader.dataset = dict(
        qbheat.train_dataloader.dataset, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2, transforms=[[
                dict(type='RandomResizedCrop', scale=32),
                dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                     hue=0.1)]]),
            dict(type='PackInputs')])
    moco.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    moco.param_scheduler = qbheat.param_scheduler
    moco.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2)
    moco.default_hooks.logger.interval = 1
    moco.log_processor = dict(by_epoch=False)
    moco.log_level = 'WARNING'
    moco.dump(root / 'moco.py')

    paths = {}
    for name in ('qbheat', 'moco'):
        work_dir = root / name
        train.main([str(root / f'{name}.py'), '--work-dir', str(work_dir)])
        paths[name] = work_dir / 'iter_2.pth'
    return paths


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['qbheat', 'moco'])
def test_runner_checkpoints_hold_only_allowed_types(runner_checkpoints, kind):
    path = runner_checkpoints[kind]
    assert compat._unsafe_globals(str(path)) == []
    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['meta']['iter'] == 2
    assert {'state_dict', 'optimizer', 'message_hub', 'param_schedulers'} <= set(checkpoint)
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    values, counts = loss.data
    assert isinstance(loss, HistoryBuffer) and len(values) == 2
    # The statistics methods came back through the restricted getattr.
    assert loss.statistics('mean') == pytest.approx(values.sum() / counts.sum())


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['qbheat', 'moco'])
def test_resume_and_backbone_loading_need_no_opt_in(runner_checkpoints, kind, tmp_path):
    path = runner_checkpoints[kind]
    backbone = MODELS.build(TINY_RESNET)
    report = load_backbone_checkpoint(backbone, str(path))
    assert report.complete and report.loaded == len(backbone.state_dict())

    out = tmp_path / 'backbone.pth'
    count, _ = save_backbone_state_dict(str(path), str(out))
    assert count == len(backbone.state_dict())
    assert compat._unsafe_globals(str(out)) == []
    assert set(torch.load(out, weights_only=True)) == set(backbone.state_dict())


@pytest.mark.slow
def test_resume_loads_the_message_hub(runner_checkpoints, tmp_path):
    config = runner_checkpoints['qbheat'].parent.parent / 'qbheat.py'
    cfg = Config.fromfile(config)
    cfg.train_cfg.max_iters = 4
    cfg.dump(tmp_path / 'qbheat4.py')
    train = load_tool('train.py')
    runner = train.build_runner(train.parse_args(
        [str(tmp_path / 'qbheat4.py'), '--work-dir', str(tmp_path / 'w'),
         '--resume', str(runner_checkpoints['qbheat'])]))
    runner.load_or_resume()
    assert runner.iter == 2
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 2


def _planted(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'planted.pth'
    torch.save(dict(state_dict=dict(MODELS.build(TINY_RESNET).state_dict()),
                    meta=dict(note=PlantedPayload(marker))), path)
    return path, marker


def test_planted_pickle_is_refused_by_default_naming_type_and_opt_in(tmp_path):
    path, marker = _planted(tmp_path)
    with pytest.raises(compat.UnsafeCheckpointError) as error:
        _load_checkpoint(str(path), map_location='cpu')
    message = str(error.value)
    assert f'Refusing to load {path}: it holds {os.system.__module__}.system' in message
    assert '--allow-pickle' in message and 'QBHEAT_ALLOW_PICKLE=1' in message
    assert not marker.exists(), 'the planted code must not run'
    # Every entry point goes through the same loader.
    with pytest.raises(compat.UnsafeCheckpointError):
        load_backbone_checkpoint(MODELS.build(TINY_RESNET), str(path))
    backbone = MODELS.build(dict(TINY_RESNET, init_cfg=dict(
        type='Pretrained', checkpoint=str(path), prefix='backbone.')))
    with pytest.raises(compat.UnsafeCheckpointError):
        backbone.init_weights()
    assert not marker.exists()


def test_planted_pickle_loads_only_with_the_env_opt_in(tmp_path, monkeypatch):
    path, marker = _planted(tmp_path)
    monkeypatch.setenv(compat.ALLOW_PICKLE_ENV, '1')
    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['meta']['note'] == 0  # os.system's exit status
    assert marker.exists()


def test_allow_pickle_flag_of_the_tools_opts_in(tmp_path, monkeypatch):
    train = load_tool('train.py')
    cfg = tmp_path / 'cfg.py'
    Config.fromfile(QBHEAT_TINY).dump(cfg)
    from qbheat_mm.engine.cli import load_config
    load_config(train.parse_args([str(cfg), '--work-dir', str(tmp_path)]))
    assert not compat.pickle_allowed()
    load_config(train.parse_args([str(cfg), '--work-dir', str(tmp_path), '--allow-pickle']))
    assert compat.pickle_allowed() and os.environ[compat.ALLOW_PICKLE_ENV] == '1'
    path, marker = _planted(tmp_path)
    _load_checkpoint(str(path), map_location='cpu')
    assert marker.exists()


class _LooksUpInit:
    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save(dict(meta=_LooksUpInit()), path)
    with pytest.raises(compat.UnsafeCheckpointError,
                       match=r"getattr\(HistoryBuffer, '__init__'\): a checkpoint may only "
                             r"look up HistoryBuffer statistics \(current, max, mean, min"):
        _load_checkpoint(str(path), map_location='cpu')


def test_numpy_1_names_and_values_load(tmp_path):
    import numpy as np
    path = tmp_path / 'np.pth'
    values = dict(a=np.float32(1.5), b=np.arange(3), c=np.dtype('int16'), d=np.int64(7))
    torch.save(dict(meta=values), path)
    loaded = _load_checkpoint(str(path), map_location='cpu')['meta']
    assert loaded['a'] == np.float32(1.5) and loaded['a'].dtype == np.float32
    assert loaded['b'].tolist() == [0, 1, 2] and loaded['c'] == np.dtype('int16')
    assert loaded['d'] == 7
    # Checkpoints written under numpy 1 name numpy.core.multiarray.
    data = pickle.dumps(np.float64(2.0), protocol=2).replace(b'numpy._core', b'numpy.core')
    assert b'numpy.core.multiarray' in data
    names = {g[1] for g in compat.CHECKPOINT_SAFE_GLOBALS if isinstance(g, tuple)}
    assert {'numpy.core.multiarray.scalar', 'numpy.core.multiarray._reconstruct'} <= names


def test_local_and_http_loaders_are_the_safe_ones():
    import mmengine.runner.checkpoint as mmengine_checkpoint
    assert CheckpointLoader._get_checkpoint_loader('/some/file.pth') is compat.load_from_local
    assert CheckpointLoader._get_checkpoint_loader(
        'https://download.openmmlab.com/x.pth') is compat.load_from_http
    assert mmengine_checkpoint.load_from_http is compat.load_from_http


def test_downloaded_checkpoint_is_loaded_safely(tmp_path, monkeypatch):
    server = tmp_path / 'server'
    server.mkdir()
    path, marker = _planted(server)
    cache = tmp_path / 'cache'

    def fake_download(url: str, dst: str, progress: bool = True) -> None:
        Path(dst).write_bytes(path.read_bytes())

    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    with pytest.raises(compat.UnsafeCheckpointError, match='planted.pth: it holds'):
        compat.load_from_http('https://example.org/planted.pth', model_dir=str(cache))
    assert (cache / 'planted.pth').is_file() and not marker.exists()


def test_the_pinned_mmengine_still_cannot_load_its_own_checkpoints(tmp_path):
    """Fails once mmengine's own loader reads a Runner checkpoint (a message hub's
    HistoryBuffer) under the pinned torch: then delete the checkpoint patch."""
    import mmengine.runner.checkpoint as mmengine_checkpoint
    path = tmp_path / 'iter_1.pth'
    loss = HistoryBuffer()
    loss.update(1.0)
    loss.update(0.5)
    torch.save(dict(meta=dict(iter=1), message_hub=dict(log_scalars=dict(loss=loss))), path)
    with pytest.raises(pickle.UnpicklingError):
        mmengine_checkpoint.load_from_local(str(path), map_location='cpu')
    loaded = compat.load_from_local(str(path), map_location='cpu')
    assert loaded['message_hub']['log_scalars']['loss'].mean() == pytest.approx(0.75)


def test_plain_state_dicts_load_as_mmengine_loads_them(tmp_path):
    """What mmengine's own loader reads, the patched one reads the same."""
    import mmengine.runner.checkpoint as mmengine_checkpoint
    path = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=MODELS.build(TINY_RESNET).state_dict(), meta=dict(n=1)), path)
    ours = compat.load_from_local(str(path), map_location='cpu')
    theirs = mmengine_checkpoint.load_from_local(str(path), map_location='cpu')
    assert ours['meta'] == theirs['meta'] and ours['state_dict'].keys() == theirs[
        'state_dict'].keys()
    for key, value in theirs['state_dict'].items():
        assert torch.equal(ours['state_dict'][key], value)
