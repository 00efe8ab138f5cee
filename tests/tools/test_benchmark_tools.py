"""tools/benchmark_speed_options.py and tools/benchmark_dataloader.py on tiny settings."""
import json
from pathlib import Path

import pytest
import torch

from tool_loader import load_tool

TINY_CONFIG = str(Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'qbheat_tiny.py')


def test_speed_options_time_every_variant_and_check_the_loss(tmp_path, capsys):
    tool = load_tool('benchmark_speed_options.py')
    out = tmp_path / 'speed.json'
    result = tool.main([TINY_CONFIG, '--img-size', '128', '--batch-size', '4', '--rounds', '2',
                        '--device', 'cpu', '--json', str(out)])
    rows = result['rows']
    assert list(rows) == ['plain', 'decode every quarter', 'foreach AdamW', 'fused AdamW',
                          'channels-last']
    for name, row in rows.items():
        assert row['ms'] > 0 and len(row['times_ms']) == 2, name
        assert row['same_loss'] and row['loss_rel_diff'] <= tool.SAME_LOSS_RTOL, name
        assert row['speedup'] == pytest.approx(rows['plain']['ms'] / row['ms'])
        assert row['paired_speedup'] > 0
    assert rows['plain']['speedup'] == 1
    assert json.loads(out.read_text())['setting']['batch_size'] == 4
    assert '| fused AdamW |' in capsys.readouterr().out


def test_speed_options_refuse_a_variant_that_changes_the_loss(monkeypatch):
    tool = load_tool('benchmark_speed_options.py')
    monkeypatch.setattr(tool, 'SAME_LOSS_RTOL', -1.)  # nothing counts as rounding now
    with pytest.raises(SystemExit, match='decode every quarter.*differs from the plain step'):
        tool.main([TINY_CONFIG, '--img-size', '128', '--batch-size', '4', '--rounds', '1',
                   '--device', 'cpu'])


def test_dataloader_benchmark_compares_with_the_step_rate(tmp_path, capsys):
    tool = load_tool('benchmark_dataloader.py')
    step = tmp_path / 'compare.json'
    step.write_text(json.dumps(dict(rows=dict(qbheat=dict(images_per_s=1e-3)))))
    data_root = f'train_dataloader.dataset.data_root={tmp_path / "demo_tiny"}'
    out = tmp_path / 'loader.json'
    result = tool.main([TINY_CONFIG, '--batches', '2', '--step-json', str(step),
                        '--json', str(out), '--cfg-options', data_root])
    assert result['batch_size'] == 4 and result['num_workers'] == 0
    assert result['images_per_s'] > 0 and result['median_batch_s'] > 0
    assert result['step_images_per_s'] == 1e-3 and result['keeps_up'] is True
    assert 'keeps up with' in capsys.readouterr().out
    assert json.loads(out.read_text())['keeps_up'] is True

    result = tool.main([TINY_CONFIG, '--batches', '1', '--batch-size', '2',
                        '--step-images-per-s', '1e9', '--cfg-options', data_root])
    assert result['batch_size'] == 2 and result['keeps_up'] is False
    assert 'is slower than' in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason='the refusal only shows without CUDA')
def test_gpu_benchmark_refuses_to_run_without_cuda():
    with pytest.raises(SystemExit, match='no CUDA device'):
        load_tool('benchmark_gpu.py').main(['--rounds', '1'])
