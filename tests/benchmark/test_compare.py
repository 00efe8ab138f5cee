"""The step task: every peer is MMPretrain's own model, timed side by side; the timing
and memory primitives every task uses."""
import json
import math

import pytest
import torch

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.benchmark import PEERS, StepBenchmark, build_peer, step_memory_mb, \
    time_interleaved
from tool_loader import load_tool

CPU = torch.device('cpu')


def test_time_interleaved_rotates_the_order_and_reports_medians():
    calls = []
    fns = {name: (lambda n=name: calls.append(n)) for name in 'abc'}
    result = time_interleaved(fns, CPU, rounds=3, warmup=1)
    assert calls[:3] == ['a', 'b', 'c']  # warm-up
    assert calls[3:] == ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']
    for timing in result.values():
        assert len(timing['times_ms']) == 3
        assert timing['median_ms'] == sorted(timing['times_ms'])[1]
    with pytest.raises(ValueError, match='rounds must be >= 1'):
        time_interleaved(fns, CPU, rounds=0)


def test_step_memory_counts_what_a_step_allocates():
    def allocate_64mib():
        x = torch.ones(16 * 2**20)  # 64 MiB, touched
        x.add_(1)

    grown = step_memory_mb(allocate_64mib, CPU)
    assert grown is not None and 56 < grown < 160
    assert step_memory_mb(lambda: None, CPU) < 16


@pytest.mark.parametrize('name,model_type,backbone_type', [
    ('qbheat', 'QBHeat', 'MobileFormer'),
    ('mocov2', 'MoCo', 'MobileFormer'),
    ('qbheat_lightdec', 'QBHeat', 'MobileFormer'),
    ('qbheat_r50', 'QBHeat', 'ResNet'),
    ('spark', 'SparK', 'SparseResNet'),
    ('mae', 'MAE', 'MAEViT'),
])
def test_every_peer_is_built_from_its_own_config(name, model_type, backbone_type):
    model = build_peer(name, img_size=128, batch_size=4)
    assert type(model).__name__ == model_type
    assert type(model.backbone).__name__ == backbone_type
    if name == 'spark':
        assert model.input_size == 128  # the mask grid follows the image size
    if name == 'mae':
        assert model.neck.num_patches == (128 // 16)**2
    if name == 'qbheat_lightdec':
        assert (len(model.decoder.blocks), model.decoder.embed_dims) == (2, 192)
    if name == 'mocov2':
        assert model.queue_len == 65536  # the recipe's queue: whole batches of 4 fit


@pytest.mark.slow  # full-size steps of every peer (MAE's ViT-B, SparK's ResNet-50)
def test_comparison_times_every_peer_with_finite_positive_numbers():
    result = StepBenchmark(list(PEERS), img_sizes=[64], batch_sizes=[2], rounds=2,
                           warmup=1).run()
    rows = result['rows']
    parts = {f'{n}:{p}' for n in ('qbheat', 'qbheat_lightdec') for p in ('neck', 'decoder')}
    assert set(rows) == set(PEERS) | {'floor'} | parts  # parts of QB-Heat on Mobile-Former
    for name, row in rows.items():
        assert math.isfinite(row['ms']) and row['ms'] > 0, name
        assert len(row['times_ms']) == 2
        assert row['ratio_to_qbheat'] == pytest.approx(row['ms'] / rows['qbheat']['ms'])
        ratios = sorted(t / r for t, r in zip(row['times_ms'], rows['qbheat']['times_ms']))
        assert row['paired_ratio_to_qbheat'] == pytest.approx((ratios[0] + ratios[1]) / 2)
    for name in PEERS:
        row = rows[name]
        assert row['images_per_s'] == pytest.approx(2 / (row['ms'] / 1e3))
        assert math.isfinite(row['loss']), name
        assert row['step_memory_mb'] is not None and row['step_memory_mb'] >= 0, name
        # Weights + gradients + two AdamW moments: at least 16 bytes per trainable weight.
        assert row['state_mb'] >= 16 * row['params_m'] * 1e6 / 2**20 - 1e-6, name
    assert rows['mae']['params_m'] > rows['qbheat']['params_m'] > rows['mocov2']['params_m']
    summary = result['summary']
    assert summary['step_over_floor'] == pytest.approx(rows['qbheat']['ms'] / rows['floor']['ms'])
    assert summary['paired_mocov2_over_qbheat'] == rows['mocov2']['paired_ratio_to_qbheat']
    assert summary['neck_decoder_share'] == pytest.approx(
        (rows['qbheat:neck']['ms'] + rows['qbheat:decoder']['ms']) / rows['qbheat']['ms'])
    # The lighter-decoder variant: its own goals against the same floor and MoCo-v2.
    assert set(summary['variants']) == {'qbheat', 'qbheat_lightdec'}
    light, light_goals = rows['qbheat_lightdec'], summary['variants']['qbheat_lightdec']
    assert light['params_m'] < rows['qbheat']['params_m']
    assert light_goals['step_over_floor'] == pytest.approx(light['ms'] / rows['floor']['ms'])
    assert light_goals['mocov2_over_qbheat'] == pytest.approx(rows['mocov2']['ms'] / light['ms'])
    assert light_goals['neck_decoder_share'] == pytest.approx(
        (rows['qbheat_lightdec:neck']['ms'] + rows['qbheat_lightdec:decoder']['ms'])
        / light['ms'])


def test_comparison_needs_qbheat_and_known_peers():
    with pytest.raises(ValueError, match='must include "qbheat"'):
        StepBenchmark(['mocov2'])
    with pytest.raises(ValueError, match="unknown peer 'simclr'"):
        StepBenchmark(['qbheat', 'simclr'])
    with pytest.raises(ValueError, match="unknown peer 'simclr'"):
        build_peer('simclr', 64, 2)


def test_tool_step_and_grid_write_results(tmp_path, capsys):
    tool = load_tool('benchmark.py')
    work = tmp_path / 'step'
    tool.main(['--task', 'step', '--peers', 'qbheat', 'mocov2', '--img-size', '64',
               '--batch-size', '2', '--rounds', '1', '--device', 'cpu', '--optimizer',
               'fused', '--work-dir', str(work)])
    printed = capsys.readouterr().out
    assert '| MoCo-v2 | Mobile-Former-294M |' in printed and 'encoder floor' in printed
    saved = json.loads((work / 'results.json').read_text())
    assert saved['setting']['optimizer_impl'] == 'fused'
    assert saved['provenance']['environment']['torch'] == torch.__version__
    assert saved['provenance']['command'].startswith('tools/benchmark.py --task step')
    assert saved['rows']['mocov2']['ms'] > 0
    markdown = (work / 'results.md').read_text()
    assert markdown.startswith('# QB-Heat against its peers') and '| MoCo-v2 |' in markdown

    work = tmp_path / 'grid'
    tool.main(['--task', 'step', '--peers', 'qbheat', '--img-size', '64', '128',
               '--batch-size', '2', '--rounds', '1', '--device', 'cpu', '--work-dir',
               str(work)])
    printed = capsys.readouterr().out
    assert '| 64 | 2 |' in printed and '| 128 | 2 |' in printed
    grid = json.loads((work / 'results.json').read_text())['grid']
    assert [(e['img_size'], e['batch_size']) for e in grid] == [(64, 2), (128, 2)]
    assert all(e['rows']['qbheat']['ms'] > 0 and e['rows']['floor']['ms'] > 0 for e in grid)


def test_goals_are_met_only_when_both_ratios_meet_them():
    def row(ms, times, memory=None):
        return dict(label='x', backbone='b', ms=ms, times_ms=times, images_per_s=None,
                    ratio_to_qbheat=1., paired_ratio_to_qbheat=1., step_memory_mb=memory)

    rows = {'qbheat': row(100, [100, 100], 10), 'mocov2': row(310, [310, 280], 30),
            'floor': row(80, [80, 70]), 'qbheat:neck': row(5, [5, 5]),
            'qbheat:decoder': row(15, [15, 15])}
    task = StepBenchmark(['qbheat', 'mocov2'], rounds=2)
    goals = task._goals(rows, 'qbheat')
    # MoCo-v2 / QB-Heat: 3.10 of the medians but 2.95 paired: not met
    assert goals['met'] == dict(mocov2_over_qbheat=False, step_over_floor=True,
                                neck_decoder_share=True, step_memory=True)
    table = StepBenchmark._table(dict(rows=rows, summary=dict(variants=dict(qbheat=goals))))
    assert "| step at least 3x faster than MoCo-v2's | **not met** |" in table
    assert '| step at most 1.35x the encoder floor | met |' in table
