"""tools/benchmark.py's options, parts, dataloader and gpu tasks on tiny settings."""
import json
from pathlib import Path

import pytest
import torch

from qbheat_mm.benchmark import OptionsBenchmark
from qbheat_mm.benchmark.tasks import SAME_LOSS_RTOL
from tool_loader import load_tool

TINY_CONFIG = str(Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'qbheat_tiny.py')


def test_speed_options_time_every_variant_and_check_the_loss(tmp_path, capsys):
    tool = load_tool('benchmark.py')
    work = tmp_path / 'options'
    result = tool.main(['--task', 'options', TINY_CONFIG, '--img-size', '128', '--batch-size',
                        '4', '--rounds', '2', '--device', 'cpu', '--work-dir', str(work)])
    rows = result['rows']
    assert list(rows) == ['plain', 'decode every quarter', 'foreach AdamW', 'fused AdamW',
                          'channels-last']
    for name, row in rows.items():
        assert row['ms'] > 0 and len(row['times_ms']) == 2, name
        assert row['same_loss'] and row['loss_rel_diff'] <= SAME_LOSS_RTOL, name
        assert row['speedup'] == pytest.approx(rows['plain']['ms'] / row['ms'])
        assert row['paired_speedup'] > 0
    assert rows['plain']['speedup'] == 1
    assert json.loads((work / 'results.json').read_text())['setting']['batch_size'] == 4
    assert '| fused AdamW |' in capsys.readouterr().out


def test_speed_options_refuse_a_variant_that_changes_the_loss(tmp_path):
    task = OptionsBenchmark(TINY_CONFIG, img_size=128, batch_size=4, rounds=1,
                            same_loss_rtol=-1.)  # nothing counts as rounding now
    with pytest.raises(RuntimeError, match='decode every quarter.*differs from the plain step'):
        task.run()


def test_dataloader_benchmark_compares_with_the_step_rate(tmp_path, capsys):
    tool = load_tool('benchmark.py')
    step = tmp_path / 'step_results.json'  # what `--task step` writes, trimmed
    step.write_text(json.dumps(dict(rows=dict(qbheat=dict(images_per_s=1e-3)))))
    data_root = f'train_dataloader.dataset.data_root={tmp_path / "demo_tiny"}'
    work = tmp_path / 'loader'
    result = tool.main(['--task', 'dataloader', TINY_CONFIG, '--batches', '2',
                        '--step-results', str(step), '--work-dir', str(work),
                        '--cfg-options', data_root])['summary']
    assert result['batch_size'] == 4 and result['num_workers'] == 0
    assert result['images_per_s'] > 0 and result['median_batch_s'] > 0
    assert result['step_images_per_s'] == 1e-3 and result['keeps_up'] is True
    assert 'keeps up with' in capsys.readouterr().out
    assert json.loads((work / 'results.json').read_text())['summary']['keeps_up'] is True

    result = tool.main(['--task', 'dataloader', TINY_CONFIG, '--batches', '1',
                        '--batch-size', '2', '--step-images-per-s', '1e9', '--work-dir',
                        str(work), '--cfg-options', data_root])['summary']
    assert result['batch_size'] == 2 and result['keeps_up'] is False
    assert 'is slower than' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='needs the CONFIG'):
        tool.main(['--task', 'dataloader'])
    with pytest.raises(SystemExit, match='no QB-Heat row'):
        empty = tmp_path / 'empty.json'
        empty.write_text('{}')
        tool.main(['--task', 'dataloader', TINY_CONFIG, '--step-results', str(empty)])


def test_only_the_step_task_takes_a_grid():
    with pytest.raises(SystemExit, match='--task parts takes one --img-size'):
        load_tool('benchmark.py').main(['--task', 'parts', TINY_CONFIG, '--img-size', '64',
                                        '128'])


@pytest.mark.skipif(torch.cuda.is_available(), reason='the refusal only shows without CUDA')
def test_gpu_benchmark_refuses_to_run_without_cuda():
    with pytest.raises(SystemExit, match='no CUDA device'):
        load_tool('benchmark.py').main(['--task', 'gpu', '--rounds', '1'])


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
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
