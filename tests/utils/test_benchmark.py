"""The side-by-side benchmark: every part is timed, ratios are consistent, nothing trains."""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from qbheat_mm.utils.benchmark import benchmark_qbheat, time_fn
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'
TINY = Config.fromfile(TINY_CONFIG).model


def test_time_fn_reports_the_median_in_milliseconds():
    calls = []
    ms = time_fn(lambda: calls.append(1), torch.device('cpu'), iters=5, warmup=2)
    assert len(calls) == 7
    assert 0 <= ms < 50


def test_benchmark_times_every_part_and_leaves_weights_alone():
    model = MODELS.build(TINY).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = benchmark_qbheat(model, img_size=64, batch_size=2, iters=2, warmup=1)
    for key in ('step', 'encoder_quarter', 'encoder_full', 'neck', 'decoder'):
        assert result[key] > 0, key
    assert result['encoder_quarter_over_full'] == pytest.approx(
        result['encoder_quarter'] / result['encoder_full'])
    assert result['neck_share_of_step'] == pytest.approx(result['neck'] / result['step'])
    assert result['images_per_s'] == pytest.approx(2 / (result['step'] / 1e3))
    assert result['peak_memory_mb'] is None  # CPU
    after = model.state_dict()
    # BN running stats move during forward passes in train mode; weights never do.
    assert all(torch.equal(after[k], v) for k, v in before.items()
               if 'running' not in k and 'num_batches' not in k)


def test_benchmark_rejects_invalid_geometry():
    model = MODELS.build(TINY)
    with pytest.raises(ValueError, match='multiples of 2 x encoder_stride = 64'):
        benchmark_qbheat(model, img_size=96, batch_size=1, iters=1, warmup=0)


def test_benchmark_tool_writes_json(tmp_path):
    cfg_path = TINY_CONFIG
    tool = load_tool('benchmark.py')
    out = tmp_path / 'bench.json'
    tool.main([str(cfg_path), '--img-size', '64', '--batch-size', '2', '--iters', '1',
               '--warmup', '0', '--device', 'cpu', '--json', str(out)])
    saved = json.loads(out.read_text())
    assert saved['setting']['img_size'] == 64 and saved['setting']['device'] == 'cpu'
    assert saved['step'] > 0
