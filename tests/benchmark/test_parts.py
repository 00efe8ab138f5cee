"""The parts task: every part of a QB-Heat step timed side by side, the ratios consistent,
no weight trained."""
from pathlib import Path

import pytest
import torch

from qbheat_mm.benchmark import PartsBenchmark

TINY_CONFIG = str(Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'qbheat_tiny.py')


def test_parts_are_timed_in_interleaved_rounds_with_consistent_ratios():
    task = PartsBenchmark(TINY_CONFIG, img_size=64, batch_size=2, rounds=3, warmup=1)
    result = task.run()
    rows, summary = result['rows'], result['summary']
    assert list(rows) == list(PartsBenchmark.PARTS)
    for name, row in rows.items():
        assert row['ms'] > 0 and len(row['times_ms']) == 3, name
        assert row['share_of_step'] == pytest.approx(row['ms'] / rows['step']['ms'])
    assert rows['step']['share_of_step'] == 1 and rows['step']['paired_share_of_step'] == 1
    assert summary['encoder_quarter_over_full'] == pytest.approx(
        rows['encoder_quarter']['ms'] / rows['encoder_full']['ms'])
    assert summary['neck_decoder_share_of_step'] == pytest.approx(
        (rows['neck']['ms'] + rows['decoder']['ms']) / rows['step']['ms'])
    assert summary['images_per_s'] == pytest.approx(2 / (rows['step']['ms'] / 1e3))
    assert summary['step_memory_mb'] is not None and summary['step_memory_mb'] >= 0
    assert result['setting']['config'] == TINY_CONFIG
    table = PartsBenchmark.markdown(result)
    assert '| encoder_quarter |' in table and 'neck + decoder' in table


def test_parts_leave_the_weights_alone(monkeypatch):
    import qbheat_mm.benchmark.tasks as tasks
    built = {}
    build = tasks._build_qbheat

    def keep(*args, **kwargs):
        built['model'] = build(*args, **kwargs)
        built['before'] = {k: v.clone() for k, v in built['model'].state_dict().items()}
        return built['model']

    monkeypatch.setattr(tasks, '_build_qbheat', keep)
    PartsBenchmark(TINY_CONFIG, img_size=64, batch_size=2, rounds=1, warmup=0).run()
    after = built['model'].state_dict()
    # BN running stats move during forward passes in train mode; weights never do.
    assert all(torch.equal(after[k], v) for k, v in built['before'].items()
               if 'running' not in k and 'num_batches' not in k)


def test_parts_reject_invalid_geometry():
    with pytest.raises(ValueError, match='multiples of 2 x encoder_stride = 64'):
        PartsBenchmark(TINY_CONFIG, img_size=96, batch_size=1, rounds=1, warmup=0).run()
    with pytest.raises(ValueError, match='rounds must be >= 1'):
        PartsBenchmark(TINY_CONFIG, rounds=0)
