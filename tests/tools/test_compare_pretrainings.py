"""Comparison plans (qbheat_mm/experiments/comparison.py through tools/run_experiment.py):
the laptop plan end to end at smoke scale (the real
configs, shrunk to a tiny Mobile-Former, tiny data and a few iterations per stage), a
failing stage that stops the pipeline and a rerun that continues, the table, and the
paper-scale plan's commands."""
import csv
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from tool_loader import load_tool

from qbheat_mm.experiments import comparison, load_plan

REPO = Path(__file__).resolve().parents[2]
LAPTOP_PLAN = REPO / 'configs' / 'experiments' / 'laptop.py'
PAPER_PLAN = REPO / 'configs' / 'experiments' / 'paper_in1k.py'


def comparison_tool():
    """The comparison's functions, with ``main`` the tool users run
    (``tools/run_experiment.py``) and ``load_plan`` the one it reads plans with."""
    functions = {k: getattr(comparison, k) for k in dir(comparison) if not k.startswith('__')}
    return SimpleNamespace(**functions, main=load_tool('run_experiment.py').main,
                           load_plan=load_plan)


def _tiny_detectors():
    spec = importlib.util.spec_from_file_location(
        'tiny_detectors_for_pipeline', REPO / 'tests' / 'det' / 'tiny_detectors.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, visit)


def shrink(config: str, tmp: Path) -> str:
    """The real config with a tiny backbone, tiny data in ``tmp``, a few iterations."""
    tiny = _tiny_detectors()
    cfg = Config.fromfile(REPO / config)
    model = cfg.model
    if model.type in ('RetinaNet', 'DETR', 'ConditionalDETR'):
        tiny.shrink_to_tiny(cfg)
    else:
        model.backbone.arch = tiny.TINY_ARCH
    width, tokens = 192, 16  # TINY_ARCH: expanded stride-32 map, token width
    if model.type == 'QBHeat':
        model.neck.in_channels = model.decoder.in_channels = width
        model.decoder.update(embed_dims=32, depth=1, num_heads=2)
    elif model.type == 'MoCo':
        model.neck.update(in_channels=width, hid_channels=32)
    elif model.type == 'ImageClassifier':
        if model.neck:
            model.neck[1].input_features = width
        model.head.in_channels = width
        if model.head.type == 'MobileFormerClsHead':
            model.head.update(token_dims=tokens, hidden_channels=32)
        if model.head.type == 'TransformerProbeHead':
            model.head.update(embed_dims=32, num_heads=2)
            if 'token_dims' in model.head:
                model.head.token_dims = tokens

    def visit(node):
        if node.get('type') == 'LaptopObjectsDataset':
            node.update(data_root=str(tmp / 'laptop'), img_size=64, num_train=2, num_val=1)
        if node.get('type') == 'RandomResizedCrop':
            node['scale'] = 64
        if node.get('type') == 'DemoCocoDataset':
            node.update(data_root=str(tmp / 'coco'),
                        demo_settings=dict(num_train=8, num_val=4, image_size=(64, 80),
                                           object_size=(20, 48), seed=1))
        if node.get('type') == 'CocoMetric':
            node['ann_file'] = str(tmp / 'coco' / 'annotations' / 'instances_val.json')

    _walk(cfg._cfg_dict, visit)
    iter_based = cfg.get('train_cfg') and cfg.train_cfg.get('type') == 'IterBasedTrainLoop'
    if cfg.get('train_cfg'):
        if iter_based:
            cfg.train_cfg.max_iters = 2
        else:
            cfg.train_cfg.max_epochs = 1
        if 'val_interval' in cfg.train_cfg:
            cfg.train_cfg.val_interval = 2 if iter_based else 1
        cfg.default_hooks.checkpoint.interval = 2 if iter_based else 1
        cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
        if model.type not in ('RetinaNet', 'DETR', 'ConditionalDETR'):
            cfg.train_dataloader.batch_size = 8
    cfg.log_level = 'WARNING'
    out = tmp / 'configs' / Path(config).name
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg.dump(out)
    return str(out)


def write_plan(tmp: Path, name: str, broken_moco: bool = False) -> Path:
    plan = Config.fromfile(LAPTOP_PLAN)
    for entry in plan.pretrainings + plan.evaluations:
        if entry.get('config'):
            entry['config'] = shrink(entry['config'], tmp)
    if broken_moco:
        moco = next(p for p in plan.pretrainings if p['name'] == 'mocov2')
        moco['cfg_options'] = ['model.neck.in_channels=7']  # a shape error at iteration 1
    path = tmp / name
    path.write_text(
        f'title = {plan.title!r}\npretrainings = {plan.pretrainings!r}\n'
        f'evaluations = {plan.evaluations!r}\nlauncher = dict(type="local")\nseeds = [0]\n')
    return path


def stage_times(work: Path) -> dict:
    return {str(p.relative_to(work)): p.stat().st_mtime_ns
            for p in work.glob('*/*/stage.json')}


@pytest.mark.e2e
def test_laptop_plan_end_to_end_fails_names_the_stage_and_resumes(tmp_path):
    tool = comparison_tool()
    work = tmp_path / 'compare'

    # 1. MoCo-v2 breaks: the pipeline stops there, naming the stage and its log
    broken = write_plan(tmp_path, 'broken.py', broken_moco=True)
    with pytest.raises(tool.StageFailed, match=r"stage 'pretrain' of pre-training 'mocov2' "
                       r'\(seed 0\) failed .*mocov2_seed0/pretrain/stage.log'):
        tool.main([str(broken), '--work-dir', str(work)])
    before = stage_times(work)
    assert {Path(k).parts[0] for k in before} == {'qbheat_seed0', 'qbheat_frozen_op_seed0'}
    assert len(before) == 2 * 8  # pretrain, extract and six evaluations per finished row
    assert not (work / 'mocov2_seed0' / 'pretrain' / 'stage.json').exists()

    # 2. fixed and rerun: the finished stages are not run again, the rest completes
    fixed = write_plan(tmp_path, 'fixed.py')
    table = tool.main([str(fixed), '--work-dir', str(work)])
    after = stage_times(work)
    assert {k: after[k] for k in before} == before
    assert len(after) == 4 * 8 + 6  # four pre-trained rows, the random row's evaluations

    # every row and column filled from a real run
    names = ['linear', 'tran1', 'knn', 'retinanet', 'detr', 'cond_detr']
    assert [t['name'] for t in table] == ['qbheat', 'qbheat_frozen_op', 'mocov2',
                                          'supervised', 'random']
    for t in table:
        for name in names:
            cell = t['cells'][name]
            assert len(cell['values']) == 1, (t['name'], name)
            assert 0 <= cell['values'][0] <= 100
            record = json.loads((Path(cell['dirs'][0]) / 'stage.json').read_text())
            assert record['value'] * (100 if name in ('retinanet', 'detr', 'cond_detr')
                                      else 1) == pytest.approx(cell['values'][0])
    # the random row's evaluations ran without a checkpoint
    record = json.loads((work / 'random_seed0' / 'linear' / 'stage.json').read_text())
    assert 'model.backbone.init_cfg=None' in record['command']
    # the frozen-operator row kept A = B = 0
    import torch
    frozen = torch.load(work / 'qbheat_frozen_op_seed0' / 'pretrain' / 'iter_2.pth',
                        weights_only=False)['state_dict']
    assert frozen['neck.A'].abs().sum() == 0
    # the k-NN monitor logged before the first and after the last iteration
    for row in ('qbheat', 'qbheat_frozen_op', 'mocov2', 'supervised'):
        stage = json.loads((work / f'{row}_seed0' / 'pretrain' / 'stage.json').read_text())
        # MoCo-v2's failed first run is not in its record
        # [iteration, k-NN top-1, images seen, training minutes] at each check
        monitor = stage['knn_monitor']
        assert [len(m) for m in monitor] == [4, 4]
        assert [m[0] for m in monitor] == [0, 2] and [m[2] for m in monitor] == [0, 2 * 8]
        assert monitor[0][3] == 0 < monitor[1][3]
        # the k-NN stage reads the extracted checkpoint: it measures what the monitor
        # measured on the same weights after the last iteration (same data, k and T)
        knn = json.loads((work / f'{row}_seed0' / 'knn' / 'stage.json').read_text())
        assert knn['value'] == pytest.approx(stage['knn_monitor'][-1][1]), row

    text = (work / 'results.md').read_text()
    assert text.count('\n| ') == 6 and 'not run' not in text
    assert '[' in text and '](qbheat_seed0/linear)' in text
    rows = list(csv.DictReader(open(work / 'results.csv')))
    assert [r['pretraining'] for r in rows] == [t['name'] for t in table]
    assert all(rows[0][n] for n in names + ['pretrain_minutes'])
    assert rows[-1]['pretrain_minutes'] == ''  # the random row has no pre-training
    assert (work / 'results.png').stat().st_size > 10_000

    # 3. --report-only rebuilds the same table without running anything
    again = tool.main([str(fixed), '--work-dir', str(work), '--report-only'])
    assert [t['cells'] for t in again] == [t['cells'] for t in table]
    assert stage_times(work) == after


def test_summary_spread_over_seeds_and_table_cells(tmp_path):
    tool = comparison_tool()
    plan = dict(title='t', evaluations=[dict(name='linear', label='linear', scale=1.0),
                                        dict(name='ap', label='AP', scale=100)],
                pretrainings=[dict(name='a', label='A', config='x.py'),
                              dict(name='r', label='random', config=None)])

    def row(name, seed, linear, ap, seconds=None):
        stages = {'linear': dict(value=linear, dir=str(tmp_path / f'{name}{seed}/linear')),
                  'ap': dict(value=ap, dir=str(tmp_path / f'{name}{seed}/ap'))}
        if seconds is not None:
            stages['pretrain'] = dict(seconds=seconds, dir=str(tmp_path / f'{name}{seed}/p'),
                                      knn_monitor=[[0, 10.], [4, 30.]])
        return dict(pretraining=name, seed=seed, stages=stages)

    rows = [row('a', 0, 60., 0.20, 120.), row('a', 1, 64., 0.30, 180.), row('r', 0, 50., 0.1)]
    table = tool.summarise(plan, rows)
    a = table[0]['cells']
    assert a['linear']['mean'] == pytest.approx(62.) and a['linear']['spread'] == 4.
    assert a['ap']['values'] == pytest.approx([20., 30.])
    assert a['pretrain']['mean'] == pytest.approx(2.5)  # minutes
    text = tool.markdown(plan, table, str(tmp_path))
    assert '| A | 62.0 (spread 4.0: [60.0](a0/linear), [64.0](a1/linear)) |' in text
    assert '| random | [50.0](r0/linear) | [10.0](r0/ap) | - |' in text
    assert '- A: 0: 10.0, 4: 30.0' in text


def test_paper_plan_dry_run_prints_the_distributed_pipeline(capsys, tmp_path):
    tool = comparison_tool()
    assert tool.main([str(PAPER_PLAN), '--work-dir', str(tmp_path), '--dry-run']) == []
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 * 7 + 5  # pretrain, extract, 5 evaluations; random: 5
    assert all('tools/dist_train.sh' in line for line in out if 'pretrain:' in line)
    assert sum('tools/torchrun.sh 8' in line and 'knn_eval.py' in line for line in out) == 5
    random_tran1 = next(line for line in out if line.startswith('[random seed 0] tran1'))
    assert 'model.backbone.init_cfg=None model.head.norm_input=True' in random_tran1
    assert not list(tmp_path.glob('*/*/stage.json'))
    tool.main([str(PAPER_PLAN), '--work-dir', str(tmp_path), '--dry-run', '--plan-options',
               'launcher.type=slurm', 'launcher.partition=gpu'])
    out = capsys.readouterr().out
    assert 'GPUS=8 ' in out and 'tools/slurm_train.sh gpu qbheat_s0' in out
    assert 'srun -p gpu' in out and '--launcher slurm' in out


@pytest.mark.parametrize('plan, match', [
    ("pretrainings = []\nevaluations = []\n", 'non-empty'),
    ("pretrainings = [dict(name='a', config=None)]\n"
     "evaluations = [dict(name='e', config='configs/knn/knn_mobileformer-294m_in1k.py')]\n",
     'needs a `metric`'),
    ("pretrainings = [dict(name='a', config='nope.py')]\n"
     "evaluations = [dict(name='e', metric='m', config='nope.py')]\n", 'config not found'),
    ("pretrainings = [dict(name='a', config=None), dict(name='a', config=None)]\n"
     "evaluations = [dict(name='e', metric='m', config='nope.py')]\n", 'unique `name`'),
])
def test_bad_plans_are_named(tmp_path, plan, match):
    path = tmp_path / 'plan.py'
    path.write_text(plan)
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        comparison_tool().main([str(path), '--work-dir', str(tmp_path)])


def test_missing_results_are_named(tmp_path):
    tool = comparison_tool()
    with pytest.raises(FileNotFoundError, match='no checkpoint in .*last_checkpoint'):
        tool.last_checkpoint(str(tmp_path))
    # a moved work dir: last_checkpoint names the old path, the file sits beside it
    (tmp_path / 'iter_4.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text('/gone/iter_4.pth')
    assert tool.last_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_4.pth')
    ev = dict(name='linear', metric='accuracy/top1')
    with pytest.raises(tool.StageFailed, match="linear finished but logged no 'accuracy/top1'"):
        tool._train_value(str(tmp_path), ev)
    (tmp_path / 'knn_results.json').write_text(json.dumps(dict(metrics={'top5': 1.})))
    with pytest.raises(tool.StageFailed, match=r"logged \['top5'\], not 'accuracy/top1'"):
        tool._knn_value(str(tmp_path), ev)


LONG_PLAN = REPO / 'configs' / 'experiments' / 'laptop_long.py'


def write_scalars(work_dir: Path, records: list[dict]) -> None:
    vis = work_dir / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_calibration_reads_the_median_step_time_after_warm_up(tmp_path):
    tool = comparison_tool()
    write_scalars(tmp_path, [dict(lr=1e-3, time=9.0, iter=5),  # warm-up window: left out
                             dict(lr=1e-3, time=0.5, iter=10), dict(lr=1e-3, time=0.7, iter=15),
                             dict(lr=1e-3, time=0.6, iter=20),
                             dict(time=3.0, step=1)])  # a validation record has no lr
    assert tool.seconds_per_iter(str(tmp_path)) == pytest.approx(0.6)
    assert tool.budget_iters(15, 0.6) == 1500 and tool.budget_iters(0.001, 5.0) == 1
    short = tmp_path / 'short'
    write_scalars(short, [dict(lr=1e-3, time=0.5, iter=5)])
    with pytest.raises(tool.StageFailed, match='logged 1 step time.*at least 2'):
        tool.seconds_per_iter(str(short))


def test_long_plan_dry_run_calibrates_budgets_and_resumes_a_killed_pretraining(capsys,
                                                                              tmp_path):
    tool = comparison_tool()
    # qbheat seed 0 was calibrated (0.45 s per iteration) and killed after a checkpoint.
    row = tmp_path / 'qbheat_seed0'
    tool.write_stage(str(row / 'calibrate'), dict(seconds_per_iter=0.45, iters=2000))
    (row / 'pretrain').mkdir()
    (row / 'pretrain' / 'last_checkpoint').write_text(str(row / 'pretrain' / 'iter_500.pth'))
    tool.main([str(LONG_PLAN), '--work-dir', str(tmp_path), '--dry-run', '--seeds', '0',
               '--only', 'qbheat', 'mocov2'])
    out = capsys.readouterr().out.splitlines()
    pretrain = next(line for line in out if line.startswith('[qbheat seed 0] pretrain'))
    assert 'train_cfg.max_iters=2000 default_hooks.checkpoint.interval=500' in pretrain
    assert pretrain.endswith('--resume')
    assert not any(line.startswith('[qbheat seed 0] calibrate') for line in out)
    calibrate = next(line for line in out if line.startswith('[mocov2 seed 0] calibrate'))
    assert 'train_cfg.max_iters=30' in calibrate and "'custom_hooks=[]'" in calibrate
    assert 'val_cfg=None' in calibrate
    mocov2 = next(line for line in out if line.startswith('[mocov2 seed 0] pretrain'))
    assert '<budget / step time>' in mocov2 and not mocov2.endswith('--resume')
    assert not any(' detr:' in line for line in out)  # optional, not asked for
    tool.main([str(LONG_PLAN), '--work-dir', str(tmp_path / 'd'), '--dry-run', '--seeds',
               '0', '--only', 'random', '--with', 'detr'])
    assert any(line.startswith('[random seed 0] detr:')
               for line in capsys.readouterr().out.splitlines())
    with pytest.raises(ValueError, match=r"--with \['knn'\]: not an optional evaluation"):
        tool.main([str(LONG_PLAN), '--work-dir', str(tmp_path), '--dry-run', '--with', 'knn'])


def test_long_plan_rows_share_budget_pool_and_monitor():
    plan = comparison_tool().load_plan(str(LONG_PLAN))
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


@pytest.mark.parametrize('entry, match', [
    ("dict(name='a', config=None, minutes=5)", 'has a budget .* but no config'),
    ("dict(name='a', config=None, minutes=-1)", 'minutes must be a positive number'),
])
def test_bad_budgets_are_named(tmp_path, entry, match):
    path = tmp_path / 'plan.py'
    path.write_text(f"pretrainings = [{entry}]\nevaluations = [dict(name='e', metric='m', "
                    "config='configs/knn/knn_mobileformer-294m_in1k.py')]\n")
    with pytest.raises(ValueError, match=match):
        comparison_tool().load_plan(str(path))
    path.write_text("pretrainings = [dict(name='a', config=None)]\nreference = 'b'\n"
                    "evaluations = [dict(name='e', metric='m', "
                    "config='configs/knn/knn_mobileformer-294m_in1k.py')]\n")
    with pytest.raises(ValueError, match=r"reference 'b' is not a pre-training"):
        comparison_tool().load_plan(str(path))


def test_differences_images_seen_and_learning_curves(tmp_path):
    tool = comparison_tool()
    plan = dict(title='t', reference='a',
                evaluations=[dict(name='linear', label='linear', scale=1.0)],
                pretrainings=[dict(name='a', label='A', config='x.py'),
                              dict(name='b', label='B', config='x.py'),
                              dict(name='c', label='C', config='x.py')])

    def row(name, seed, linear, images=None):
        monitor = [[0, 10., 0, 0.], [50, 20. + linear / 10, images, 14.9]]
        return dict(pretraining=name, seed=seed, stages={
            'linear': dict(value=linear, dir=str(tmp_path / f'{name}{seed}')),
            'pretrain': dict(seconds=900., dir=str(tmp_path / 'p'), knn_monitor=monitor)})

    rows = [row('a', 0, 60., 8000), row('a', 1, 62., 8200), row('b', 0, 50., 1600),
            row('b', 1, 51., 1500), row('c', 0, 60.5, 3000)]
    table = tool.summarise(plan, rows)
    assert table[0]['images_seen']['mean'] == pytest.approx(8100)
    diffs = {d['row']: d for d in tool.differences(plan, table)}
    assert diffs['b']['delta'] == pytest.approx(10.5) and diffs['b']['spread'] == 2.
    assert diffs['b']['exceeds'] is True
    assert diffs['c']['exceeds'] is None  # one seed of C: its spread is unknown
    text = tool.markdown(plan, table, str(tmp_path))
    assert ('| pre-training | linear | pre-training time (min) | training min, checks left '
            'out (mean) | images seen (mean) |') in text
    assert '| 14.9 | 8,100 |' in text
    assert '| B | +10.5 (yes) |' in text and '| C | +0.5 (one seed) |' in text
    assert '8,100' in text
    assert tool.curves_chart(plan, table, str(tmp_path / 'curves.png'))
    assert (tmp_path / 'curves.png').stat().st_size > 0
    # Monitors of an older run (iteration and top-1 only) draw no curves.
    for r in rows:
        r['stages']['pretrain']['knn_monitor'] = [[0, 10.], [50, 20.]]
    assert not tool.curves_chart(plan, tool.summarise(plan, rows), str(tmp_path / 'x.png'))


def test_report_records_the_command_and_commit(tmp_path):
    tool = comparison_tool()
    plan = dict(title='t', reference=None,
                evaluations=[dict(name='linear', label='linear', scale=1.0)],
                pretrainings=[dict(name='r', label='random', config=None)])
    rows = [dict(pretraining='r', seed=0, stages={
        'linear': dict(value=50., dir=str(tmp_path / 'r0'))})]
    tool.report(plan, rows, str(tmp_path), ['tools/run_experiment.py', 'plan.py', '--work-dir',
                                            'x'])
    saved = json.loads((tmp_path / 'results.json').read_text())['provenance']
    assert saved['command'] == 'tools/run_experiment.py plan.py --work-dir x'
    assert saved['environment']['git commit'] and saved['environment']['torch']


def test_knn_trajectory_keeps_the_latest_check_of_an_iteration(tmp_path):
    """A failed attempt's check before iteration 1, and a resumed run's check at its
    checkpoint's iteration, are replaced by the later run's."""
    tool = comparison_tool()
    for stamp, checks in (('20260101_000000', [(0, 31.25)]),
                          ('20260101_010000', [(0, 12.5), (2, 20.), (4, 22.)]),
                          ('20260101_020000', [(4, 23.), (6, 25.)])):
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        vis.joinpath('scalars.json').write_text(''.join(
            json.dumps({'knn/top1': top1, 'knn/images_seen': step * 8,
                        'knn/train_minutes': step / 10, 'step': step}) + '\n'
            for step, top1 in checks))
    assert tool.knn_trajectory(str(tmp_path)) == [
        [0, 12.5, 0, 0.], [2, 20., 16, .2], [4, 23., 32, .4], [6, 25., 48, .6]]


def test_runs_from_takes_the_finished_rows_of_an_earlier_session(tmp_path, capsys):
    """A row finished in an earlier results.json is taken whole; an unfinished one is not
    (its later stages need its earlier ones' files), and the table says where rows came
    from."""
    tool = comparison_tool()
    plan = tool.load_plan(str(LAPTOP_PLAN))
    qbheat = next(p for p in plan['pretrainings'] if p['name'] == 'qbheat')
    stages = {name: dict(value=50., seconds=60., dir=f'/elsewhere/qbheat_seed0/{name}',
                         knn_monitor=[[0, 10., 0, 0.], [8, 20., 128, 1.]])
              for name in tool.row_stages(plan, qbheat)}
    earlier = tmp_path / 'earlier' / 'results.json'
    earlier.parent.mkdir()
    earlier.write_text(json.dumps(dict(provenance=dict(environment={'git commit': 'abc1234'}),
                                       runs=[
        dict(pretraining='qbheat', label='QB-Heat', seed=0, stages=stages),
        dict(pretraining='mocov2', label='MoCo-v2', seed=0,
             stages={'pretrain': stages['pretrain']})])))  # unfinished: not taken
    assert set(tool.finished_rows(plan, str(earlier))) == {('qbheat', 0)}
    table = tool.main([str(LAPTOP_PLAN), '--work-dir', str(tmp_path / 'work'), '--seeds',
                       '0', '--report-only', '--runs-from', str(earlier)])
    assert '[qbheat seed 0] taken from' in capsys.readouterr().out
    cells = next(t for t in table if t['name'] == 'qbheat')['cells']
    assert cells['linear']['values'] == [50.] and cells['pretrain']['values'] == [1.]
    assert all(not t['cells']['linear']['values'] for t in table if t['name'] != 'qbheat')
    text = (tmp_path / 'work' / 'results.md').read_text()
    assert f'- QB-Heat, seed 0: {earlier} (made at commit abc1234)' in text
    with pytest.raises(FileNotFoundError, match='--runs-from .*nope.json: no such file'):
        tool.main([str(LAPTOP_PLAN), '--work-dir', str(tmp_path / 'w'), '--report-only',
                   '--runs-from', str(tmp_path / 'nope.json')])
