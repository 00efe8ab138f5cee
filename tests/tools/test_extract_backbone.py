"""tools/model_converters/extract_backbone.py: plain state dict out, same outputs after the
round trip, non-zero exit when the input has no backbone weights."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import MMLogger

from qbheat_mm.utils.checkpoint import load_backbone_checkpoint
from tool_loader import load_tool

extract_backbone = load_tool('model_converters/extract_backbone.py')


def tiny_backbone() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 6, 3, stride=2))


def full_checkpoint(tmp_path: Path) -> tuple[nn.Module, Path]:
    """A QB-Heat-like checkpoint with BN statistics that differ from a fresh model's."""
    torch.manual_seed(0)
    model = nn.Module()
    model.backbone, model.neck = tiny_backbone(), nn.Linear(6, 6)
    model.backbone.train()(torch.randn(4, 3, 16, 16))  # moves running mean / var
    path = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'seed': np.int64(0)}, 'state_dict': model.state_dict(),
                'optimizer': {'lr': 0.1}}, path)
    return model.backbone, path


def test_round_trip_gives_the_same_outputs(tmp_path, capsys):
    source, ckpt = full_checkpoint(tmp_path)
    out = tmp_path / 'backbone.pth'
    assert extract_backbone.main([str(ckpt), str(out)]) == 0
    assert "kept 9 keys from prefix 'backbone.'" in capsys.readouterr().out

    plain = torch.load(out, weights_only=True)
    assert list(plain) == list(source.state_dict())
    extracted = tiny_backbone()
    report = load_backbone_checkpoint(extracted, str(out))
    assert (report.prefix, report.loaded, report.total) == ('', 9, 9)

    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(extracted.eval()(x), source.eval()(x), rtol=0, atol=0)


def test_no_backbone_weights_exits_non_zero_with_message(tmp_path, capsys):
    ckpt = tmp_path / 'head_only.pth'
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(2, 2)}}, ckpt)
    assert extract_backbone.main([str(ckpt), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert 'holds no backbone weights' in err
    assert "prefix 'backbone.'" in err and 'head. (1 keys)' in err
    assert not (tmp_path / 'out.pth').exists()


def test_custom_prefix(tmp_path, capsys):
    source, ckpt = full_checkpoint(tmp_path)
    out = tmp_path / 'neck.pth'
    assert extract_backbone.main([str(ckpt), str(out), '--prefix', 'neck']) == 0
    assert "kept 2 keys from prefix 'neck.'" in capsys.readouterr().out
    assert set(torch.load(out, weights_only=True)) == {'weight', 'bias'}


def test_extracted_mobile_former_loads_every_key_through_strict_pretrained(tmp_path, capsys):
    from mmengine.model.weight_init import initialize
    from qbheat_mm.models.backbones import MobileFormer

    source = MobileFormer('26m')
    source.init_weights()
    holder = nn.Module()
    holder.backbone, holder.decoder = source, nn.Linear(4, 4)
    torch.save({'state_dict': holder.state_dict()}, tmp_path / 'iter_800.pth')
    out = tmp_path / 'mobileformer_26m.pth'
    assert extract_backbone.main([str(tmp_path / 'iter_800.pth'), str(out)]) == 0
    count = len(source.state_dict())
    assert f"kept {count} keys from prefix 'backbone.'" in capsys.readouterr().out

    target = MobileFormer('26m')
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        initialize(target, dict(type='StrictPretrained', checkpoint=str(out)))
    finally:
        logger.removeHandler(handler)
    assert f"loaded {count}/{count} backbone keys from prefix ''" in '\n'.join(messages)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key


class _Planted:
    """Unpickling this runs ``os.system``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


def test_planted_pickle_is_refused_unless_allow_pickle(tmp_path, capsys, monkeypatch):
    from qbheat_mm import compat
    monkeypatch.setenv(compat.ALLOW_PICKLE_ENV, '0')
    model = nn.Module()
    model.backbone = tiny_backbone()
    ckpt, marker = tmp_path / 'planted.pth', tmp_path / 'ran'
    torch.save({'meta': {'x': _Planted(marker)}, 'state_dict': model.state_dict()}, ckpt)
    out = tmp_path / 'out.pth'
    assert extract_backbone.main([str(ckpt), str(out)]) == 1
    err = capsys.readouterr().err
    assert f'Refusing to load {ckpt}: it holds posix.system' in err and '--allow-pickle' in err
    assert not marker.exists() and not out.exists()
    assert extract_backbone.main([str(ckpt), str(out), '--allow-pickle']) == 0
    assert marker.exists() and list(torch.load(out, weights_only=True)) == list(
        model.backbone.state_dict())
