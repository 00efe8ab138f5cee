"""Reading what stages left (qbheat_mm/experiments/readers.py): validations and k-NN
checks across resumed runs, the calibration, checkpoints, and the finished rows of
earlier results files, the published ones included."""
import json
from pathlib import Path

import pytest

from qbheat_mm.experiments import StageFailed, load_plan
from qbheat_mm.experiments.readers import (earlier_rows, knn_trajectory, last_checkpoint,
                                           resumable, seconds_per_iter, validations)
from qbheat_mm.experiments.stages import budget_iters, finished_rows, row_stages

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / 'docs' / 'results'


def write_scalars(work_dir: Path, records: list[dict], stamp='20260101_000000') -> None:
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_a_resumed_run_keeps_the_later_validation_of_an_iteration(tmp_path):
    for stamp, records in (('20260101_000000', [(100, 17.), (200, 18.), (300, 18.5)]),
                           ('20260101_010000', [(300, 18.6), (400, 19.)])):
        write_scalars(tmp_path, [line for it, psnr in records for line in
                                 (dict(iter=it, loss=1.), {'recon/psnr_masked': psnr,
                                                           'step': 1})], stamp)
    assert [[v['iter'], v['recon/psnr_masked']] for v in validations(
        str(tmp_path), 'recon/psnr_masked')] == [[100, 17.], [200, 18.], [300, 18.6],
                                                 [400, 19.]]


def test_knn_trajectory_keeps_the_latest_check_of_an_iteration(tmp_path):
    """A failed attempt's check before iteration 1, and a resumed run's check at its
    checkpoint's iteration, are replaced by the later run's."""
    for stamp, checks in (('20260101_000000', [(0, 31.25)]),
                          ('20260101_010000', [(0, 12.5), (2, 20.), (4, 22.)]),
                          ('20260101_020000', [(4, 23.), (6, 25.)])):
        write_scalars(tmp_path, [{'knn/top1': top1, 'knn/images_seen': step * 8,
                                  'knn/train_minutes': step / 10, 'step': step}
                                 for step, top1 in checks], stamp)
    assert knn_trajectory(str(tmp_path)) == [
        [0, 12.5, 0, 0.], [2, 20., 16, .2], [4, 23., 32, .4], [6, 25., 48, .6]]


def test_calibration_reads_the_median_step_time_after_warm_up(tmp_path):
    write_scalars(tmp_path, [dict(lr=1e-3, time=9.0, iter=5),  # warm-up window: left out
                             dict(lr=1e-3, time=0.5, iter=10), dict(lr=1e-3, time=0.7, iter=15),
                             dict(lr=1e-3, time=0.6, iter=20),
                             dict(time=3.0, step=1)])  # a validation record has no lr
    assert seconds_per_iter(str(tmp_path), 5) == pytest.approx(0.6)
    assert budget_iters(15, 0.6) == 1500 and budget_iters(0.001, 5.0) == 1
    short = tmp_path / 'short'
    write_scalars(short, [dict(lr=1e-3, time=0.5, iter=5)])
    with pytest.raises(StageFailed, match='logged 1 step time.*at least 2'):
        seconds_per_iter(str(short), 5)


def test_checkpoints_found_and_missing_ones_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no checkpoint in .*last_checkpoint'):
        last_checkpoint(str(tmp_path))
    # a moved work dir: last_checkpoint names the old path, the file sits beside it
    (tmp_path / 'iter_4.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text('/gone/iter_4.pth')
    assert last_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_4.pth')


def test_resumable_means_a_pointer_or_a_complete_checkpoint(tmp_path):
    import torch
    run = tmp_path / 'run'
    assert not resumable(str(run))
    run.mkdir()
    (run / 'iter_2.pth').write_bytes(b'truncated')
    assert not resumable(str(run))  # a half-written checkpoint is nothing to resume
    torch.save(dict(state_dict={}), run / 'iter_4.pth')
    assert resumable(str(run))  # even without last_checkpoint (killed while writing it)
    (run / 'iter_4.pth').unlink()
    (run / 'last_checkpoint').write_text('')
    assert resumable(str(run))


def test_runs_from_takes_the_finished_rows_of_an_earlier_session(tmp_path, capsys):
    """A row finished in an earlier results.json is taken whole; an unfinished one is not
    (its later stages need its earlier ones' files), and the table says where rows came
    from."""
    from tool_loader import load_tool

    laptop = REPO / 'configs' / 'experiments' / 'laptop.py'
    plan = load_plan(str(laptop))
    qbheat = next(p for p in plan['pretrainings'] if p['name'] == 'qbheat')
    stages = {name: dict(value=50., seconds=60., dir=f'/elsewhere/qbheat_seed0/{name}',
                         knn_monitor=[[0, 10., 0, 0.], [8, 20., 128, 1.]])
              for name in row_stages(plan, qbheat)}
    earlier = tmp_path / 'earlier' / 'results.json'
    earlier.parent.mkdir()
    earlier.write_text(json.dumps(dict(provenance=dict(environment={'git commit': 'abc1234'}),
                                       runs=[
        dict(pretraining='qbheat', label='QB-Heat', seed=0, stages=stages),
        dict(pretraining='mocov2', label='MoCo-v2', seed=0,
             stages={'pretrain': stages['pretrain']})])))  # unfinished: not taken
    assert set(finished_rows(plan, str(earlier))) == {('qbheat', 0)}
    table = load_tool('run_experiment.py').main(
        [str(laptop), '--work-dir', str(tmp_path / 'work'), '--seeds', '0', '--report-only',
         '--runs-from', str(earlier)])
    assert '[qbheat seed 0] taken from' in capsys.readouterr().out
    cells = next(t for t in table if t['name'] == 'qbheat')['cells']
    assert cells['linear']['values'] == [50.] and cells['pretrain']['values'] == [1.]
    assert all(not t['cells']['linear']['values'] for t in table if t['name'] != 'qbheat')
    text = (tmp_path / 'work' / 'results.md').read_text()
    assert f'- QB-Heat, seed 0: {earlier} (made at commit abc1234)' in text
    with pytest.raises(FileNotFoundError, match='--runs-from .*nope.json: no such file'):
        finished_rows(plan, str(tmp_path / 'nope.json'))


def test_runs_from_reads_an_ablation_results_file_of_the_old_layout(tmp_path):
    earlier = [dict(name=f'quarter_{op}_block_seed0', scope='quarter', operator=op,
                    mode='block', seed=0, iter=10, seconds=60., commit='abc1234',
                    curve=[[10, psnr]], **{'recon/psnr_masked': psnr,
                                           'recon/psnr_masked_copy': 12.,
                                           'recon/psnr_masked_flat': 13.,
                                           'recon/psnr_masked_gain': psnr - 13.})
               for op, psnr in (('learned', 16.), ('frozen', 15.))]
    results = tmp_path / 'results.json'
    results.write_text(json.dumps(dict(runs=earlier)))
    plan_file = tmp_path / 'plan.py'
    plan_file.write_text("type = 'ablation'\nconfig = 'configs/qbheat_mobileformer_demo.py'\n")
    taken = finished_rows(load_plan(str(plan_file)), str(results))
    assert set(taken) == {('quarter_learned_block', 0), ('quarter_frozen_block', 0)}
    learned = taken['quarter_learned_block', 0]
    assert learned['stages']['recon']['value'] == 16.
    assert learned['stages']['recon']['metrics']['recon/psnr_masked_flat'] == 13.
    assert learned['stages']['pretrain']['seconds'] == 60.
    assert 'abc1234' in learned['source']


@pytest.mark.parametrize('name', sorted(p.name for p in RESULTS.iterdir()
                                        if (p / 'results.json').is_file()))
def test_every_published_results_file_still_loads(name):
    rows, commit = earlier_rows(str(RESULTS / name / 'results.json'))
    assert commit
    for r in rows:
        assert {'pretraining', 'seed', 'stages'} <= set(r), r.keys()
