"""The converged laptop study's plan (configs/experiments/laptop_study_converged.py): a
column per probe, layer and regime; equal images for every pre-training; the feature
probes as a stage of the pipeline, at smoke scale."""
import json
from pathlib import Path

import pytest
from mmengine.config import Config

from qbheat_mm.experiments import load_plan
from qbheat_mm.experiments.plan import columns, config_for

from smoke_plans import run, write_plan

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / 'configs' / 'experiments'


def test_a_features_evaluation_has_a_column_per_probe_layer_and_regime():
    plan = load_plan(str(PLANS / 'laptop_study_converged.py'))
    probes = next(e for e in plan['evaluations'] if e['kind'] == 'features')
    assert len(probes['metrics']) == 4 * 2 * 3
    assert probes['headline'] == ['linear/last/recalibrated', 'tran1/last/recalibrated',
                                  'knn/last/recalibrated', 'knn_std/last/recalibrated']
    head = [c['key'] for c in columns(plan, headline_only=True)]
    assert head == [f'probes/{m}' for m in probes['headline']] + ['retinanet']
    rows = {p['name']: p for p in plan['pretrainings']}
    retinanet = next(e for e in plan['evaluations'] if e['name'] == 'retinanet')
    assert config_for(retinanet, rows['qbheat'])
    assert config_for(retinanet, rows['spark_r18']) is None
    assert config_for(probes, rows['spark_r18']).endswith(
        'feature-probes_resnet18_laptop-objects.py')
    assert {p['images'] for p in plan['pretrainings'] if p['config']} == {24576}


@pytest.mark.e2e
def test_converged_probes_run_as_a_stage_of_the_plan(tmp_path):
    """The converged study's Mobile-Former rows at smoke scale: QB-Heat pre-trains for an
    images budget, its backbone is extracted, the probes run on it and on a random init,
    and the table names every probe, layer and regime with its evidence."""
    plan = Config.fromfile(PLANS / 'laptop_study_converged.py')
    mf = [p for p in plan.pretrainings if p['name'] in ('qbheat', 'random')]
    for p in mf:
        p['images'] = 16 if p['config'] else None
    path = tmp_path / 'plan.py'
    path.write_text(f"pretrainings = {mf!r}\nevaluations = [{plan.evaluations[0]!r}]\n"
                    "reference = 'qbheat'\n")
    shrunk = write_plan(tmp_path, 'shrunk.py', plan_file=str(path),
                        extra="reference = 'qbheat'\n")
    work = tmp_path / 'work'
    table = run([shrunk, '--work-dir', work])
    pretrain = json.loads((work / 'qbheat_seed0' / 'pretrain' / 'stage.json').read_text())
    assert 'train_cfg.max_iters=2' in pretrain['command']  # 16 images / batch 8
    probes = json.loads((work / 'qbheat_seed0' / 'probes' / 'probe_results.json').read_text())
    assert len(probes['metrics']) == 24
    assert probes['evidence']['linear/last/recalibrated']['cv_fits'] == 4
    for t in table:
        cell = t['cells']['probes/linear/last/recalibrated']
        assert len(cell['values']) == 1 and 0 <= cell['values'][0] <= 100
    text = (work / 'results.md').read_text()
    assert '| QB-Heat (MF) | inner | quarters |' in text
    assert 'Evidence that the probes of converged probes converged' in text
    assert '| random init (MF) | ' in text


def test_images_budgets_set_the_iterations_of_each_row(capsys, tmp_path):
    run([PLANS / 'laptop_study_converged.py', '--work-dir', tmp_path, '--dry-run', '--seeds',
         '0'])
    out = capsys.readouterr().out.splitlines()
    pretrains = [line for line in out if ' pretrain: ' in line]
    assert len(pretrains) == 7
    assert all('train_cfg.max_iters=1536 default_hooks.checkpoint.interval=384' in line
               for line in pretrains)
    assert not any('calibrate' in line for line in out)
    spark = [line for line in out if line.startswith('[spark_r18 seed 0]')]
    assert [line.split(']')[1].split(':')[0].strip() for line in spark] == [
        'pretrain', 'extract', 'probes']  # no RetinaNet config for ResNet-18
    probes = next(line for line in spark if ' probes: ' in line)
    assert 'feature-probes_resnet18_laptop-objects.py' in probes and '--seed 0' in probes
    random = next(line for line in out if line.startswith('[random seed 0] probes'))
    assert '--random' in random
