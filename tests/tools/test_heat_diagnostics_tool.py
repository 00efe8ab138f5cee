"""tools/analysis/heat_diagnostics.py on a tiny QB-Heat checkpoint: its files and numbers."""
import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from qbheat_mm import compat
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'


def load_diagnostics_tool():
    return load_tool('analysis/heat_diagnostics.py')


@pytest.fixture
def tiny_checkpoint(tmp_path):
    """A tiny QB-Heat model with a known operator: A = 0.5 I (so I + A = 1.5 I), B = -0.5 I."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(TINY_CONFIG)).model)
    with torch.no_grad():
        model.neck.A.copy_(0.5 * torch.eye(64))
        model.neck.B.copy_(-0.5 * torch.eye(64))
    path = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path, model


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for k in range(4):
        path = tmp_path / f'img{k}.png'
        cv2.imwrite(str(path), rng.integers(0, 255, (90, 110, 3)).astype(np.uint8))
        paths.append(str(path))
    return paths


def test_tool_writes_report_json_and_plots(tiny_checkpoint, images, tmp_path):
    ckpt, model = tiny_checkpoint
    out = tmp_path / 'out'
    diag = load_diagnostics_tool().main([str(TINY_CONFIG), str(ckpt), *images,
                                         '--out-dir', str(out), '--img-size', '128'])
    assert sorted(p.name for p in out.iterdir()) == [
        'extrapolation.png', 'linearity.png', 'report.json', 'report.md', 'spectra.png']
    report = json.loads((out / 'report.json').read_text())
    assert report['linearity'] == diag.summary['linearity']
    # 128 px through ResNet-18 at stride 32: a 4 x 4 map of 64 channels
    assert (report['images'], report['channels'], report['map_size']) == (4, 64, [4, 4])
    assert report['meta']['operator'] == 'loaded'
    op = report['operator']
    assert (op['mode'], op['step']) == ('block', 1)  # 64 px training crops: 1-cell quarters
    assert op['spectrum']['x'] == dict(spectral_radius=pytest.approx(1.5),
                                       min_modulus=pytest.approx(1.5), unstable=64, size=64,
                                       cond=pytest.approx(1), norm=pytest.approx(1.5))
    assert op['spectrum']['y']['spectral_radius'] == pytest.approx(0.5)
    assert op['spectrum']['y']['unstable'] == 0
    hc = op['heat_coefficient']  # S = -(0.5 I)^2 (-0.5 I)^-2 = -I
    assert hc['exists']
    assert (hc['norm_S'], hc['cond_S']) == (pytest.approx(1), pytest.approx(1))
    assert op['commutator'] == dict(norm=0., relative=0., diagonal_gap=0.)
    for axis in ('x', 'y'):
        assert list(report['extrapolation'][axis]['copy']) == ['1', '2', '3']
        assert list(report['extrapolation'][axis]['learned']) == ['1', '2', '3']
    markdown = (out / 'report.md').read_text()
    for heading in ('## 1. Linearity', '## 2. The operator', '## 3. Extrapolation'):
        assert heading in markdown
    assert '| largest eigenvalue modulus | 1.5000 | 0.5000 |' in markdown
    # 7 x 3.4 and 8 x 4 inches at 120 dpi
    assert cv2.imread(str(out / 'linearity.png')).shape == (408, 840, 3)
    assert cv2.imread(str(out / 'spectra.png')).shape == (480, 960, 3)


def test_random_init_and_pickled_checkpoints(tiny_checkpoint, images, tmp_path, monkeypatch):
    tool = load_diagnostics_tool()
    out = tmp_path / 'random'
    diag = tool.main([str(TINY_CONFIG), '--random-init', *images, '--out-dir', str(out),
                      '--img-size', '128'])
    assert diag.summary['operator'] is None
    assert diag.summary['meta']['weights'] == 'random init (seed 0)'
    assert not (out / 'spectra.png').exists() and (out / 'report.md').exists()
    assert 'No learned operator (none: random init).' in (out / 'report.md').read_text()

    ckpt, model = tiny_checkpoint
    runner_like = tmp_path / 'runner.pth'
    meta = argparse.Namespace(iter=1)  # not a tensor: weights_only refuses it
    torch.save(dict(state_dict=model.state_dict(), meta=meta), runner_like)
    args = [str(TINY_CONFIG), str(runner_like), *images, '--img-size', '128', '--out-dir']
    monkeypatch.setenv(compat.ALLOW_PICKLE_ENV, '0')  # restored after the opt-in below
    with pytest.raises(compat.UnsafeCheckpointError, match='holds argparse.Namespace'):
        tool.main(args + [str(tmp_path / 'refused')])
    assert not (tmp_path / 'refused').exists()
    diag = tool.main(args + [str(tmp_path / 'allowed'), '--allow-pickle'])
    assert compat.pickle_allowed()  # the same opt-in as tools/train.py and tools/test.py
    assert diag.summary['operator']['spectrum']['x']['spectral_radius'] == pytest.approx(1.5)


def test_arguments_never_drop_a_checkpoint_silently():
    tool = load_diagnostics_tool()
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', '--out-dir', 'o'])  # neither checkpoint nor --random-init
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', 'model.pth', '--random-init', '--out-dir', 'o'])
    args = tool.parse_args(['cfg.py', 'model.pth', 'a.png', 'b.png', '--out-dir', 'o'])
    assert (args.checkpoint, args.images) == ('model.pth', ['a.png', 'b.png'])
    args = tool.parse_args(['cfg.py', '--random-init', 'a.png', '--out-dir', 'o'])
    assert (args.checkpoint, args.images) == (None, ['a.png'])
