"""Plans (qbheat_mm/experiments/plan.py): rows, evaluations and their columns; an
ablation is a grid of rows; bad plans are named."""
from pathlib import Path

import pytest
from mmengine.config import Config

from qbheat_mm.experiments import load_plan
from qbheat_mm.experiments.plan import columns

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / 'configs' / 'experiments'
KNN = 'configs/knn/knn_mobileformer-294m_in1k.py'


def write(tmp_path, text: str) -> str:
    path = tmp_path / 'plan.py'
    path.write_text(text)
    return str(path)


def test_an_ablation_is_a_grid_of_rows_scored_by_their_validation(tmp_path):
    plan = load_plan(write(tmp_path, "type = 'ablation'\nconfig = "
                           "'configs/qbheat_mobileformer_demo.py'\nscopes = ['quarter', "
                           "'global']\nmodes = ['recursive']\ncfg_options = ['a=1']\n"))
    assert [p['name'] for p in plan['pretrainings']] == [
        'quarter_learned_recursive', 'quarter_frozen_recursive', 'global_learned_recursive',
        'global_frozen_recursive']
    row = plan['pretrainings'][3]
    assert row['cfg_options'] == ['model.decoder.scope=global',
                                  'model.neck.freeze_operator=True',
                                  'model.neck.mode=recursive', 'a=1']
    assert row['axes'] == dict(scope='global', operator='frozen', mode='recursive')
    assert plan['contrast'] == dict(axis='operator', minus='frozen')
    (recon, ) = plan['evaluations']
    assert (recon['kind'], recon['metric']) == ('validation', 'recon/psnr_masked')
    keys = [c['key'] for c in columns(plan)]
    assert keys[0] == 'recon' and 'recon/recon/psnr_masked_known' in keys
    assert [c['key'] for c in columns(plan, headline_only=True)] == ['recon']


@pytest.mark.parametrize('plan, match', [
    ("pretrainings = []\nevaluations = []\n", 'non-empty'),
    ("pretrainings = [dict(name='a', config=None)]\n"
     f"evaluations = [dict(name='e', config='{KNN}')]\n", 'needs a `metric`'),
    ("pretrainings = [dict(name='a', config='nope.py')]\n"
     "evaluations = [dict(name='e', metric='m', config='nope.py')]\n", 'config not found'),
    ("pretrainings = [dict(name='a', config=None), dict(name='a', config=None)]\n"
     "evaluations = [dict(name='e', metric='m', config='nope.py')]\n", 'unique `name`'),
    ("pretrainings = [dict(name='a', config=None, minutes=5)]\n"
     f"evaluations = [dict(name='e', metric='m', config='{KNN}')]\n",
     'has a budget .* but no config'),
    ("pretrainings = [dict(name='a', config=None, minutes=-1)]\n"
     f"evaluations = [dict(name='e', metric='m', config='{KNN}')]\n",
     'minutes must be a positive number'),
    ("pretrainings = [dict(name='a', config='configs/qbheat_mobileformer_demo.py', minutes=1,"
     f" images=10)]\nevaluations = [dict(name='e', metric='m', config='{KNN}')]\n",
     'in minutes or in images, not both'),
    ("pretrainings = [dict(name='a', config=None)]\nreference = 'b'\n"
     f"evaluations = [dict(name='e', metric='m', config='{KNN}')]\n",
     "reference 'b' is not a pre-training"),
    ("pretrainings = [dict(name='a', config=None)]\ncontrast = dict(axis='op', minus='x')\n"
     f"evaluations = [dict(name='e', metric='m', config='{KNN}')]\n",
     r"no row has axes\['op'\] = 'x'"),
    ("pretrainings = [dict(name='a', config=None)]\n"
     f"evaluations = [dict(name='e', kind='knn', metric='m', config='{KNN}')]\n"
     "launcher = dict(type='slurm')\n", 'needs launcher.partition'),
    ("pretrainings = [dict(name='a', config=None)]\n"
     f"evaluations = [dict(name='e', kind='features', config='{KNN}')]\n",
     'has no probe_protocol'),
    ("pretrainings = [dict(name='a', config=None)]\n"
     f"evaluations = [dict(name='e', kind='probe', metric='m', config='{KNN}')]\n",
     'kind must be one of'),
    ("type = 'ablation'\nconfig = 'configs/qbheat_mobileformer_demo.py'\n"
     "modes = ['diagonal']\n", '`modes` must be a non-empty list of'),
    ("type = 'ablation'\n", 'needs a `config`'),
])
def test_bad_plans_are_named(tmp_path, plan, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_plan(write(tmp_path, plan))


def test_the_kind_comes_from_the_plan(tmp_path):
    path = write(tmp_path, "config = 'configs/qbheat_mobileformer_demo.py'\n")
    assert load_plan(path)['type'] == 'ablation'  # names a config: a grid of it
    with pytest.raises(ValueError, match=r"`type` must be one of \['ablation', "
                       r"'comparison'\], got None"):
        load_plan(write(tmp_path, "title = 'nothing to run'\n"))
    with pytest.raises(FileNotFoundError, match='plan file not found'):
        load_plan(str(tmp_path / 'nope.py'))


def test_long_plan_rows_share_budget_pool_and_monitor():
    plan = load_plan(str(PLANS / 'laptop_long.py'))
    trained = [p for p in plan['pretrainings'] if p['config']]
    assert {p['minutes'] for p in trained} == {15}
    assert plan['seeds'] == [0, 1] and plan['reference'] == 'qbheat'
    for p in trained:
        cfg = Config.fromfile(REPO / p['config'])
        dataset = cfg.train_dataloader.dataset
        assert (dataset.data_root, dataset.num_train, dataset.seed) == (
            'data/laptop_objects_pool', 512, 1)
        assert [h['num_checks'] for h in cfg.custom_hooks] == [8]
        assert not {'end', 'T_max'} & set(cfg.param_scheduler[-1])
    rows = {p['name']: p for p in plan['pretrainings']}
    assert rows['qbheat_frozen_op']['config'] == rows['qbheat']['config']
    assert rows['qbheat_frozen_op']['cfg_options'] == ['model.neck.freeze_operator=True']


def _laptop_datasets(node):
    """Every LaptopObjectsDataset dict in a config tree."""
    if isinstance(node, dict):
        if node.get('type') == 'LaptopObjectsDataset':
            yield node
        for value in node.values():
            yield from _laptop_datasets(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _laptop_datasets(value)


@pytest.mark.parametrize('plan', ['heat_prior_laptop.py', 'recipe_laptop.py'])
def test_the_recipe_ablations_never_read_the_studys_probe_images(plan):
    """Nothing is chosen on the study's val: every laptop dataset a row trains on, monitors
    with, validates on or is probed on (what the Runner and the probe tool read, not the
    configs' unused helper variables) is the pool or the dev set, never
    data/laptop_objects (the converged study's probe images, the dataset's default)."""
    import argparse

    from qbheat_mm.engine.cli import add_cfg_options  # what tools/train.py parses them with
    repo = Path(__file__).resolve().parents[2]
    loaded = load_plan(str(repo / 'configs' / 'experiments' / plan))
    parser = argparse.ArgumentParser()
    add_cfg_options(parser)
    roots = set()
    for row in loaded['pretrainings']:
        cfg = Config.fromfile(str(repo / row['config']))
        cfg.merge_from_dict(parser.parse_args(['--cfg-options', *row['cfg_options']])
                            .cfg_options)
        read = {k: cfg.get(k) for k in ('train_dataloader', 'val_dataloader',
                                         'test_dataloader', 'custom_hooks', 'model')}
        roots |= {d.get('data_root', 'data/laptop_objects') for d in _laptop_datasets(read)}
    for evaluation in loaded['evaluations']:
        for config in evaluation['config'].values():
            cfg = Config.fromfile(str(repo / config))
            roots |= {d.get('data_root', 'data/laptop_objects')
                      for d in _laptop_datasets(cfg.get('probe_data'))}
    assert 'data/laptop_objects' not in roots
    assert 'data/laptop_objects_dev' in roots


def test_a_comparisons_cfg_options_go_to_every_row_before_its_own(tmp_path):
    plan = load_plan(write(tmp_path, "type = 'comparison'\n"
                           "cfg_options = ['a=1']\n"
                           "pretrainings = [dict(name='x', config=None),\n"
                           "                dict(name='y', config=None, cfg_options=['b=2'])]\n"
                           "evaluations = [dict(name='e', kind='validation')]\n"))
    assert [p['cfg_options'] for p in plan['pretrainings']] == [['a=1'], ['a=1', 'b=2']]
