"""Plans run as users run them (tools/run_experiment.py on qbheat_mm/experiments): the
laptop plan end to end at smoke scale (the real configs, shrunk to a tiny Mobile-Former,
tiny data and a few iterations per stage), a failing stage that stops the plan and a
rerun that continues; a two-variant ablation that trains, reads and resumes; and the
commands of the dry runs."""
import csv
import json
import sys
from pathlib import Path

import pytest
import torch

from qbheat_mm.experiments import StageFailed

from smoke_plans import run, stage_times, write_plan

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / 'configs' / 'experiments'
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'


@pytest.mark.e2e
def test_laptop_plan_end_to_end_fails_names_the_stage_and_resumes(tmp_path):
    work = tmp_path / 'compare'

    # 1. MoCo-v2 breaks: the plan stops there, naming the stage and its log
    broken = write_plan(tmp_path, 'broken.py', broken_moco=True)
    with pytest.raises(StageFailed, match=r"stage 'pretrain' of pre-training 'mocov2' "
                       r'\(seed 0\) failed .*mocov2_seed0/pretrain/stage.log'):
        run([broken, '--work-dir', work])
    before = stage_times(work)
    assert {Path(k).parts[0] for k in before} == {'qbheat_seed0', 'qbheat_frozen_op_seed0'}
    assert len(before) == 2 * 8  # pretrain, extract and six evaluations per finished row
    assert not (work / 'mocov2_seed0' / 'pretrain' / 'stage.json').exists()

    # 2. fixed and rerun: the finished stages are not run again, the rest completes
    fixed = write_plan(tmp_path, 'fixed.py')
    table = run([fixed, '--work-dir', work])
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
            assert record['commit']
    # the random row's evaluations ran without a checkpoint
    record = json.loads((work / 'random_seed0' / 'linear' / 'stage.json').read_text())
    assert 'model.backbone.init_cfg=None' in record['command']
    # the frozen-operator row kept A = B = 0
    frozen = torch.load(work / 'qbheat_frozen_op_seed0' / 'pretrain' / 'iter_2.pth',
                        weights_only=False)['state_dict']
    assert frozen['neck.A'].abs().sum() == 0
    for row in ('qbheat', 'qbheat_frozen_op', 'mocov2', 'supervised'):
        stage = json.loads((work / f'{row}_seed0' / 'pretrain' / 'stage.json').read_text())
        # MoCo-v2's failed first run is not in its record (its folder was emptied)
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
    again = run([fixed, '--work-dir', work, '--report-only'])
    assert [t['cells'] for t in again] == [t['cells'] for t in table]
    assert stage_times(work) == after


def ablation_plan(tmp_path, **grid) -> Path:
    plan = tmp_path / 'plan.py'
    demo = tmp_path / 'demo'
    options = [f'train_dataloader.dataset.data_root={demo}',
               f'val_dataloader.dataset.data_root={demo}', 'custom_hooks=[]']
    plan.write_text(f"type = 'ablation'\nconfig = {str(TINY_CONFIG)!r}\n"
                    f"operators = {grid.get('operators', ['learned', 'frozen'])!r}\n"
                    f"cfg_options = {options!r}\n")
    return plan


@pytest.mark.e2e
def test_two_variant_smoke_ablation_trains_reads_and_resumes(tmp_path):
    plan, work = ablation_plan(tmp_path), tmp_path / 'ablation'
    table = run([plan, '--work-dir', work])
    assert [t['name'] for t in table] == ['quarter_learned_block', 'quarter_frozen_block']
    results = json.loads((work / 'results.json').read_text())
    recon = [r['stages']['recon'] for r in results['runs']]
    assert [r['iter'] for r in recon] == [4, 4]  # the final validation of a 4-iteration run
    assert all(r['metrics']['recon/psnr_masked_gain'] is not None for r in recon)
    assert len(results['differences']) == 1
    assert 'Each row minus its twin with operator = frozen' in (work / 'results.md').read_text()
    assert (work / 'validation.png').is_file()
    # the frozen run really kept A = B = 0, the learned one moved them
    learned_dir = work / 'quarter_learned_block_seed0' / 'pretrain'
    frozen_dir = work / 'quarter_frozen_block_seed0' / 'pretrain'
    frozen = torch.load(frozen_dir / 'iter_4.pth', weights_only=False)['state_dict']
    learned = torch.load(learned_dir / 'iter_4.pth', weights_only=False)['state_dict']
    assert frozen['neck.A'].abs().sum() == 0 and learned['neck.A'].abs().sum() > 0
    # a second call trains nothing and reads the same numbers
    again = run([plan, '--work-dir', work])
    assert [t['cells']['recon'] for t in again] == [t['cells']['recon'] for t in table]
    # a run killed after its last checkpoint resumes from it; one killed before its first
    # checkpoint starts over in an emptied folder
    for stage in ('pretrain', 'recon'):
        (learned_dir.parent / stage / 'stage.json').unlink()
        (frozen_dir.parent / stage / 'stage.json').unlink()
    for name in ('last_checkpoint', 'iter_2.pth', 'iter_4.pth'):
        (frozen_dir / name).unlink()
    resumed = run([plan, '--work-dir', work])
    assert [t['cells']['recon']['mean'] for t in resumed] == pytest.approx(
        [t['cells']['recon']['mean'] for t in table], abs=1e-3)  # same seed, same data
    assert '--resume' in (learned_dir / 'stage.log').read_text().splitlines()[0]
    assert '--resume' not in (frozen_dir / 'stage.log').read_text().splitlines()[0]
    # --report-only over a larger grid tabulates the two finished rows and trains nothing
    report = run([plan, '--work-dir', work, '--report-only', '--seeds', '0', '1'])
    assert [len(t['cells']['recon']['values']) for t in report] == [1, 1]
    assert not (work / 'quarter_learned_block_seed1').exists()


def test_paper_plan_dry_run_prints_the_distributed_pipeline(capsys, tmp_path):
    plan = PLANS / 'paper_in1k.py'
    assert run([plan, '--work-dir', tmp_path, '--dry-run']) == []
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 * 7 + 5  # pretrain, extract, 5 evaluations; random: 5
    assert all('tools/dist_train.sh' in line for line in out if 'pretrain:' in line)
    assert sum('tools/torchrun.sh 8' in line and 'knn_eval.py' in line for line in out) == 5
    assert all('extract_backbone.py' in line and 'torchrun' not in line
               for line in out if 'extract:' in line)
    random_tran1 = next(line for line in out if line.startswith('[random seed 0] tran1'))
    assert 'model.backbone.init_cfg=None model.head.norm_input=True' in random_tran1
    assert not list(tmp_path.glob('*/*/stage.json'))
    run([plan, '--work-dir', tmp_path, '--dry-run', '--plan-options', 'launcher.type=slurm',
         'launcher.partition=gpu'])
    out = capsys.readouterr().out
    assert 'GPUS=8 ' in out and 'tools/slurm_train.sh gpu qbheat_s0' in out
    assert 'srun -p gpu' in out and '--launcher slurm' in out


def test_long_plan_dry_run_calibrates_budgets_and_resumes_a_killed_pretraining(capsys,
                                                                              tmp_path):
    from qbheat_mm.experiments.readers import write_stage

    # qbheat seed 0 was calibrated (0.45 s per iteration) and killed after a checkpoint.
    row = tmp_path / 'qbheat_seed0'
    write_stage(str(row / 'calibrate'), dict(seconds_per_iter=0.45, iters=2000))
    (row / 'pretrain').mkdir()
    (row / 'pretrain' / 'last_checkpoint').write_text(str(row / 'pretrain' / 'iter_500.pth'))
    long = PLANS / 'laptop_long.py'
    run([long, '--work-dir', tmp_path, '--dry-run', '--seeds', '0', '--only', 'qbheat',
         'mocov2'])
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
    run([long, '--work-dir', tmp_path / 'd', '--dry-run', '--seeds', '0', '--only', 'random',
         '--with', 'detr'])
    assert any(line.startswith('[random seed 0] detr:')
               for line in capsys.readouterr().out.splitlines())
    with pytest.raises(ValueError, match=r"--with \['knn'\]: not an optional evaluation"):
        run([long, '--work-dir', tmp_path, '--dry-run', '--with', 'knn'])


@pytest.mark.slow  # a tools/train.py process
def test_a_failed_stage_names_itself_its_log_and_the_way_on(tmp_path):
    from qbheat_mm.experiments.launch import run_stage
    with pytest.raises(StageFailed, match=r'(?s)my stage failed with exit status 1; its log '
                       r'is .*stage\.log\. Last lines:\n.*config file not found: \S*nope\.py'
                       r'.*Fix the cause and rerun'):
        run_stage([sys.executable, str(REPO / 'tools' / 'train.py'), 'nope.py'], {},
                  str(tmp_path / 'stage.log'), 'my stage')
