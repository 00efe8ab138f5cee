"""The table (qbheat_mm/experiments/table.py): values over seeds, differences against the
spread (against a reference row, and along a contrast axis), the markdown and CSV, and
the provenance of the results file."""
import csv
import json
from pathlib import Path

import pytest

from qbheat_mm.experiments import load_plan
from qbheat_mm.experiments.table import differences, markdown, report, summarise

REPO = Path(__file__).resolve().parents[2]


def comparison(reference=None):
    return dict(title='t', reference=reference, contrast=None,
                evaluations=[dict(name='linear', label='linear', kind='train', scale=1.0,
                                  digits=1, also=[]),
                             dict(name='ap', label='AP', kind='train', scale=100, digits=1,
                                  also=[])],
                pretrainings=[dict(name='a', label='A', config='x.py'),
                              dict(name='b', label='B', config='x.py'),
                              dict(name='r', label='random', config=None)])


def row(tmp_path, name, seed, linear, ap, seconds=None, images=None):
    stages = {'linear': dict(value=linear, dir=str(tmp_path / f'{name}{seed}/linear')),
              'ap': dict(value=ap, dir=str(tmp_path / f'{name}{seed}/ap'))}
    if seconds is not None:
        stages['pretrain'] = dict(seconds=seconds, dir=str(tmp_path / f'{name}{seed}/p'),
                                  knn_monitor=[[0, 10., 0, 0.], [4, 30., images, 14.9]])
    return dict(pretraining=name, seed=seed, stages=stages)


def test_summary_spread_over_seeds_and_table_cells(tmp_path):
    plan = comparison()
    rows = [row(tmp_path, 'a', 0, 60., 0.20, 120.), row(tmp_path, 'a', 1, 64., 0.30, 180.),
            row(tmp_path, 'r', 0, 50., 0.1)]
    table = summarise(plan, rows)
    a = table[0]['cells']
    assert a['linear']['mean'] == pytest.approx(62.) and a['linear']['spread'] == 4.
    assert a['ap']['values'] == pytest.approx([20., 30.])
    assert a['pretrain']['mean'] == pytest.approx(2.5)  # minutes
    assert table[1]['cells']['linear']['mean'] is None  # b never ran
    text = markdown(plan, table, str(tmp_path))
    assert '| A | 62.0 (spread 4.0: [60.0](a0/linear), [64.0](a1/linear)) |' in text
    assert '| B | not run | not run | not run |' in text
    assert '| random | [50.0](r0/linear) | [10.0](r0/ap) | - |' in text
    assert '- A: 0: 10.0, 4: 30.0' in text


def test_differences_against_a_reference_and_images_seen(tmp_path):
    plan = comparison(reference='a')
    rows = [row(tmp_path, 'a', 0, 60., .2, 900., 8000), row(tmp_path, 'a', 1, 62., .2, 900., 8200),
            row(tmp_path, 'b', 0, 50., .2, 900., 1600), row(tmp_path, 'b', 1, 51., .2, 900., 1500),
            row(tmp_path, 'r', 0, 60.5, .2)]
    table = summarise(plan, rows)
    assert table[0]['images_seen']['mean'] == pytest.approx(8100)
    diffs = {(d['row'], d['column']): d for d in differences(plan, table)}
    assert diffs['b', 'linear']['delta'] == pytest.approx(10.5)
    assert diffs['b', 'linear']['spread'] == 2. and diffs['b', 'linear']['exceeds'] is True
    assert diffs['r', 'linear']['exceeds'] is None  # one seed: its spread is unknown
    text = markdown(plan, table, str(tmp_path))
    assert ('| pre-training | linear | AP | pre-training time (min) | training min, checks '
            'left out (mean) | images seen (mean) |') in text
    assert '| 14.9 | 8,100 |' in text
    assert '| B | +10.5 (yes) | +0.0 (no) |' in text
    assert '| random | +0.5 (one seed) | +0.0 (one seed) |' in text


def ablation_rows(tmp_path, control: bool = False):
    """Rows as the engine records an ablation's runs (four runs: learned and frozen, two
    seeds each)."""
    out = []
    for operator, seed, psnr in (('learned', 0, 16.0), ('learned', 1, 16.4),
                                 ('frozen', 0, 15.0), ('frozen', 1, 15.1)):
        metrics = {'recon/psnr_masked': psnr, 'recon/psnr_masked_copy': 12.,
                   'recon/psnr_masked_flat': 13., 'recon/psnr_masked_gain': psnr - 13.}
        if control:
            metrics.update({'recon/psnr_masked_known': 58.9, 'recon/psnr_masked_shared': 19.6})
        out.append(dict(pretraining=f'quarter_{operator}_block', seed=seed, stages=dict(
            pretrain=dict(seconds=60., dir=str(tmp_path / 'p'), commit='abc1234'),
            recon=dict(value=psnr, metrics=metrics, dir=str(tmp_path / 'p'),
                       curve=[[100, psnr - 2], [200, psnr]]))))
    return out


def ablation_plan(tmp_path):
    path = tmp_path / 'plan.py'
    path.write_text("type = 'ablation'\nconfig = 'configs/qbheat_mobileformer_demo.py'\n")
    return load_plan(str(path))


def test_an_ablation_table_and_the_operator_effect(tmp_path):
    plan = ablation_plan(tmp_path)
    table = summarise(plan, ablation_rows(tmp_path))
    learned = table[0]['cells']
    assert learned['recon']['mean'] == pytest.approx(16.2)
    assert learned['recon']['spread'] == pytest.approx(0.4)
    assert learned['pretrain']['mean'] == pytest.approx(1.)  # minutes per run
    (effect, ) = differences(plan, table)
    assert (effect['row'], effect['subtrahend']) == ('quarter_learned_block',
                                                     'quarter_frozen_block')
    assert effect['delta'] == pytest.approx(16.2 - 15.05)
    assert effect['spread'] == pytest.approx(0.4) and effect['seeds'] == 2
    assert effect['exceeds'] is True
    text = markdown(plan, table, str(tmp_path))
    assert ('| quarter / learned / block | 16.20 (spread 0.40: [16.00](p), [16.40](p)) | '
            '12.00 (spread 0.00: [12.00](p), [12.00](p)) |') in text
    assert '| known |' not in text  # logged on the control only
    assert 'Each row minus its twin with operator = frozen' in text
    assert '| quarter / learned / block | +1.15 (yes) |' in text
    assert 'Stages run at commit `abc1234`.' in text


def test_the_control_shows_its_exact_answer_and_frozen_ceiling(tmp_path):
    plan = ablation_plan(tmp_path)
    rows = ablation_rows(tmp_path, control=True)
    table = summarise(plan, rows)
    text = markdown(plan, table, str(tmp_path))
    assert '| masked PSNR (dB) | copy | flat | gain | known | shared |' in text
    assert '58.90 (spread 0.00: [58.90](p), [58.90](p))' in text
    assert '| quarter / learned / block | +1.15 (yes) |' in text
    # the validation curves of every row and seed
    from qbheat_mm.experiments.plots import validation_chart
    assert validation_chart(plan, table, str(tmp_path / 'validation.png'))
    assert (tmp_path / 'validation.png').stat().st_size > 10_000


def test_report_writes_every_file_with_its_provenance(tmp_path):
    plan = comparison()
    rows = [row(tmp_path, 'a', 0, 60., 0.2, 120.), row(tmp_path, 'r', 0, 50., 0.1)]
    report(plan, rows, str(tmp_path), ['tools/run_experiment.py', 'plan.py', '--work-dir',
                                       'x'])
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved['provenance']['command'] == 'tools/run_experiment.py plan.py --work-dir x'
    assert saved['provenance']['environment']['git commit']
    md = (tmp_path / 'results.md').read_text()
    assert md.startswith('# t\n\nMade by `tools/run_experiment.py plan.py --work-dir x` at '
                         'commit `')
    assert (tmp_path / 'results.png').stat().st_size > 10_000
    lines = list(csv.DictReader(open(tmp_path / 'results.csv')))
    assert [r['pretraining'] for r in lines] == ['a', 'b', 'r']
    assert lines[0]['linear'] == '60.0000' and lines[-1]['pretrain_minutes'] == ''
    # a report-only rewrite keeps what made the runs and adds itself
    report(plan, rows, str(tmp_path), ['tools/run_experiment.py', 'again'], report_only=True)
    again = json.loads((tmp_path / 'results.json').read_text())['provenance']
    assert again['command'] == saved['provenance']['command']
    assert again['reported']['command'] == 'tools/run_experiment.py again'
    assert 'Tabulated again by `tools/run_experiment.py again`' in (
        tmp_path / 'results.md').read_text()
