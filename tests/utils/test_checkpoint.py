"""The strict checkpoint bridge: full / MoCo / extracted checkpoints load every key, wrong
prefixes and other models fail loudly with the key lists, StrictPretrained through init_weights."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.model.weight_init import initialize
from mmengine.registry import DefaultScope

from qbheat_mm.utils.checkpoint import CheckpointMismatchError, load_backbone_checkpoint


class TinyBackbone(BaseModule):
    """Conv + BN + Conv, with a child whose own init_cfg would zero its conv if rerun."""

    def __init__(self, width: int = 4, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width))
        self.block = BaseModule(init_cfg=dict(type='Constant', val=0., layer='Conv2d'))
        self.block.conv = nn.Conv2d(width, width, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.block.conv(self.stem(x).relu()), )


class PretrainModel(nn.Module):
    """Key layout of an MMPretrain self-supervisor: backbone., neck., momentum_encoder."""

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.backbone = TinyBackbone(width)
        self.neck = nn.Linear(width, 2)
        self.momentum_encoder = nn.Sequential(TinyBackbone(width))


def randomise(module: nn.Module, seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in module.state_dict().values():
            if value.is_floating_point():
                value.copy_(torch.randn(value.shape, generator=gen))
    return module


def save_full_checkpoint(path: Path, model: nn.Module) -> Path:
    # Like MMEngine's CheckpointHook: meta with numpy values, so torch >= 2.6 needs the
    # weights_only fix of qbheat_mm.compat to read it.
    torch.save({'meta': {'epoch': 3, 'seed': np.int64(0), 'arr': np.zeros(2)},
                'state_dict': model.state_dict()}, path)
    return path


@pytest.fixture
def pretrained(tmp_path: Path) -> tuple[PretrainModel, Path]:
    model = randomise(PretrainModel(), seed=1)
    return model, save_full_checkpoint(tmp_path / 'epoch_3.pth', model)


def assert_same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], rtol=0, atol=0, msg=key)


def test_full_checkpoint_auto_prefix_loads_every_key(pretrained):
    model, path = pretrained
    backbone = TinyBackbone()
    report = load_backbone_checkpoint(backbone, str(path))
    assert report.prefix == 'backbone.'
    assert report.loaded == report.total == len(backbone.state_dict()) == 9
    assert report.complete
    assert_same_state(backbone, model.backbone)


def test_moco_checkpoint_auto_picks_online_encoder_not_momentum(pretrained):
    model, path = pretrained
    backbone = TinyBackbone()
    load_backbone_checkpoint(backbone, str(path), prefix='auto')
    online = model.backbone.stem[0].weight
    momentum = model.momentum_encoder[0].stem[0].weight
    assert not torch.equal(online, momentum)
    assert torch.equal(backbone.stem[0].weight, online)


def test_explicit_prefix_without_dot_and_momentum_encoder(pretrained):
    model, path = pretrained
    backbone = TinyBackbone()
    report = load_backbone_checkpoint(backbone, str(path), prefix='momentum_encoder.0')
    assert report.prefix == 'momentum_encoder.0.'
    assert_same_state(backbone, model.momentum_encoder[0])


def test_plain_state_dict_auto_uses_no_prefix(tmp_path):
    source = randomise(TinyBackbone(), seed=2)
    torch.save(source.state_dict(), tmp_path / 'plain.pth')
    backbone = TinyBackbone()
    report = load_backbone_checkpoint(backbone, str(tmp_path / 'plain.pth'))
    assert (report.prefix, report.loaded, report.total) == ('', 9, 9)
    assert_same_state(backbone, source)


def test_wrong_prefix_fails_loudly_with_key_lists_and_loads_nothing(pretrained):
    _, path = pretrained
    backbone = TinyBackbone()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as info:
        load_backbone_checkpoint(backbone, str(path), prefix='momentum_encoder.')
    message = str(info.value)
    assert "prefix 'momentum_encoder.'" in message
    assert '0/9 module keys loadable' in message
    assert 'missing in checkpoint (9): stem.0.weight, stem.0.bias' in message
    assert 'unexpected in checkpoint (9): 0.stem.0.weight' in message
    assert 'strict=False' in message and 'prefix=' in message
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_prefix_that_matches_nothing_lists_what_the_checkpoint_holds(pretrained):
    _, path = pretrained
    with pytest.raises(CheckpointMismatchError,
                       match=r"prefix 'encoder\.'.*backbone\. \(9 keys\), "
                             r'momentum_encoder\. \(9 keys\), neck\. \(2 keys\)'):
        load_backbone_checkpoint(TinyBackbone(), str(path), prefix='encoder.')


def test_checkpoint_of_another_model_fails_with_shape_and_key_lists(tmp_path):
    other = nn.Sequential()
    other.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # other keys
    other.backbone.add_module('stem', nn.Sequential(nn.Conv2d(3, 8, 3)))  # other shape
    save_full_checkpoint(tmp_path / 'other.pth', other)
    with pytest.raises(CheckpointMismatchError) as info:
        load_backbone_checkpoint(TinyBackbone(), str(tmp_path / 'other.pth'))
    message = str(info.value)
    assert 'shape mismatch (2): stem.0.weight: (8, 3, 3, 3) vs (4, 3, 3, 3)' in message
    assert 'unexpected in checkpoint (7): 0.weight, 0.bias, 1.weight' in message
    assert 'missing in checkpoint (7): stem.1.weight' in message


def test_long_key_lists_are_truncated_with_counts(tmp_path):
    wide = nn.Sequential(*[nn.Linear(2, 2) for _ in range(20)])
    torch.save(wide.state_dict(), tmp_path / 'wide.pth')
    with pytest.raises(CheckpointMismatchError,
                       match=r'unexpected in checkpoint \(40\): 0\.weight, .*, 4\.bias, '
                             r'\.\.\. and 30 more'):
        load_backbone_checkpoint(TinyBackbone(), str(tmp_path / 'wide.pth'))


def test_strict_false_loads_matching_keys_and_warns(tmp_path):
    source = randomise(TinyBackbone(), seed=3)
    partial = {k: v for k, v in source.state_dict().items() if not k.startswith('block.')}
    torch.save(partial, tmp_path / 'partial.pth')
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        report = load_backbone_checkpoint(TinyBackbone(), str(tmp_path / 'partial.pth'),
                                          strict=False)
    finally:
        logger.removeHandler(handler)
    assert (report.loaded, report.total, report.missing) == (7, 9, ['block.conv.weight',
                                                                    'block.conv.bias'])
    warning = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and 'PARTIAL model' in warning[0]
    assert 'missing in checkpoint (2): block.conv.weight, block.conv.bias' in warning[0]


def test_strict_pretrained_needs_a_checkpoint():
    with pytest.raises(ValueError, match=r'model\.backbone\.init_cfg\.checkpoint=PATH.*'
                                         r'init_cfg=None'):
        initialize(TinyBackbone(), dict(type='StrictPretrained', checkpoint=None))


def test_strict_pretrained_survives_children_reinit_in_init_weights(pretrained):
    # The child `block` has a Constant(0) init_cfg: MMEngine would run it after the
    # backbone's own init_cfg and zero the loaded conv, unless StrictPretrained prevents it.
    model, path = pretrained
    backbone = TinyBackbone(init_cfg=dict(type='StrictPretrained', checkpoint=str(path)))
    backbone.init_weights()
    assert_same_state(backbone, model.backbone)
    assert backbone.block.conv.weight.abs().sum() > 0


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet'])
def test_strict_pretrained_is_found_from_library_scopes(pretrained, scope):
    model, path = pretrained
    backbone = TinyBackbone()
    with DefaultScope.overwrite_default_scope(scope):
        initialize(backbone, dict(type='StrictPretrained', checkpoint=str(path),
                                  prefix='backbone.'))
    assert_same_state(backbone, model.backbone)


def test_strict_pretrained_raises_through_init_weights_on_wrong_prefix(pretrained):
    _, path = pretrained
    backbone = TinyBackbone(init_cfg=dict(type='StrictPretrained', checkpoint=str(path),
                                          prefix='neck.'))
    with pytest.raises(CheckpointMismatchError, match='missing in checkpoint'):
        backbone.init_weights()


def test_strict_pretrained_in_image_classifier(pretrained, tmp_path):
    from mmpretrain.registry import MODELS
    source = randomise(MODELS.build(dict(type='ResNet', depth=18, stem_channels=8,
                                         base_channels=8, zero_init_residual=False)), seed=4)
    holder = nn.Module()
    holder.backbone = source
    path = save_full_checkpoint(tmp_path / 'resnet.pth', holder)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MODELS.build(dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                          zero_init_residual=False,
                          init_cfg=dict(type='StrictPretrained', checkpoint=str(path))),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=64)))
        classifier.init_weights()
    assert_same_state(classifier.backbone, source)


def test_a_truncated_or_empty_file_is_named_with_what_is_wrong(pretrained, tmp_path):
    from qbheat_mm.utils.checkpoint import (CheckpointReadError, StrictPretrainedInit,
                                            load_checkpoint_strict)
    _, path = pretrained
    half = tmp_path / 'half.pth'
    half.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    for bad, what in ((half, "its zip directory, which torch.save writes last, is missing"),
                      (empty, 'empty')):
        with pytest.raises(CheckpointReadError, match=rf'{bad} is not a complete checkpoint '
                           rf'\([\d,]+ bytes: {what}.*Use the checkpoint before it'):
            load_checkpoint_strict(TinyBackbone(), str(bad))
        # the same from a probe's init_cfg, not torch's "PytorchStreamReader failed"
        with pytest.raises(CheckpointReadError, match=str(bad)):
            StrictPretrainedInit(checkpoint=str(bad))(TinyBackbone())
    with pytest.raises(FileNotFoundError, match='checkpoint not found: .*nope.pth'):
        load_checkpoint_strict(TinyBackbone(), str(tmp_path / 'nope.pth'))
