"""Ablation plans (qbheat_mm/experiments/ablation.py through tools/run_experiment.py): the
grid, the tables, and a real two-run smoke ablation."""
import json
from pathlib import Path

import pytest
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'


def load_ablation_tool():
    from qbheat_mm.experiments import ablation
    return ablation


def run_ablation(plan_dir, work, *args, config=TINY_CONFIG, scopes=('quarter', ),
                 operators=('learned', 'frozen'), modes=('block', ), seeds=(0, ),
                 cfg_options=()):
    """Write an ablation plan to ``plan_dir/plan.py`` and run it as a user does; returns
    (the runs, the command line after the tool's name)."""
    plan = plan_dir / 'plan.py'
    plan.write_text(f"type = 'ablation'\nconfig = {str(config)!r}\nscopes = {list(scopes)!r}\n"
                    f'operators = {list(operators)!r}\nmodes = {list(modes)!r}\n'
                    f'seeds = {list(seeds)!r}\ncfg_options = {list(cfg_options)!r}\n')
    argv = [str(plan), '--work-dir', str(work), *args]
    return load_tool('run_experiment.py').main(argv), argv


def fake_run(tool, scope, operator, mode, seed, psnr):
    return dict(name=tool.run_name(scope, operator, mode, seed), scope=scope,
                operator=operator, mode=mode, seed=seed, iter=10, seconds=60.,
                **{'recon/psnr_masked': psnr, 'recon/psnr_masked_copy': 12.,
                   'recon/psnr_masked_flat': 13., 'recon/psnr_masked_gain': psnr - 13.})


def test_overrides_select_decoder_operator_mode_and_seed():
    tool = load_ablation_tool()
    assert tool.overrides('global', 'frozen', 'recursive', 3) == [
        'model.decoder.scope=global', 'model.neck.freeze_operator=True',
        'model.neck.mode=recursive', 'randomness.seed=3']
    assert 'model.neck.freeze_operator=False' in tool.overrides('quarter', 'learned',
                                                                'block', 0)


def test_summary_and_operator_effect():
    tool = load_ablation_tool()
    runs = [fake_run(tool, 'quarter', 'learned', 'block', 0, 16.0),
            fake_run(tool, 'quarter', 'learned', 'block', 1, 16.4),
            fake_run(tool, 'quarter', 'frozen', 'block', 0, 15.0),
            fake_run(tool, 'quarter', 'frozen', 'block', 1, 15.1)]
    rows = tool.summarise(runs)
    learned = next(r for r in rows if r['operator'] == 'learned')
    assert learned['mean'] == pytest.approx(16.2)
    assert learned['spread'] == pytest.approx(0.4)
    assert learned['minutes'] == pytest.approx(2.)
    (effect, ) = tool.operator_effect(rows)
    assert effect['delta'] == pytest.approx(16.2 - 15.05)
    assert effect['spread'] == pytest.approx(0.4) and effect['seeds'] == 2
    table = tool.markdown('cfg.py', rows, [effect])
    assert '| quarter | learned | block | 16.00, 16.40 | 16.20 | 0.40 |' in table
    assert '| quarter | block | +1.15 | 0.40 | 2 | yes |' in table
    assert 'known-answer control' not in table
    one_seed = tool.summarise(runs[:1])
    assert '| quarter | learned | block | 16.00 | 16.00 | - |' in tool.markdown('c', one_seed, [])


def test_control_references_and_curves(tmp_path):
    tool = load_ablation_tool()
    runs = [dict(fake_run(tool, 'quarter', operator, 'block', seed, psnr),
                 curve=[[100, psnr - 2], [200, psnr]],
                 **{'recon/psnr_masked_known': 58.9, 'recon/psnr_masked_shared': 19.6})
            for operator, seed, psnr in (('learned', 0, 24.9), ('learned', 1, 24.5),
                                         ('frozen', 0, 18.5), ('frozen', 1, 18.7))]
    rows = tool.summarise(runs)
    assert rows[0]['known'] == 58.9 and rows[0]['shared'] == 19.6
    table = tool.markdown('control.py', rows, tool.operator_effect(rows))
    assert '`known` (58.90 dB' in table and '`shared` (19.60 dB)' in table
    assert '| quarter | block | +6.10 | 0.40 | 2 | yes |' in table
    tool.curves_chart('control.py', runs, str(tmp_path / 'curves.png'))
    assert (tmp_path / 'curves.png').stat().st_size > 0
    # A run whose validation logged earlier than its last record keeps the whole curve.
    vis = tmp_path / 'run' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    records = [dict(iter=100, loss=1.), {'recon/psnr_masked': 17., 'step': 1},
               dict(iter=200, loss=.9), {'recon/psnr_masked': 18., 'step': 2}]
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    assert [[v['iter'], v['recon/psnr_masked']] for v in tool.validations(
        str(tmp_path / 'run'))] == [[100, 17.], [200, 18.]]
    assert tool.last_validation(str(tmp_path / 'run'))['iter'] == 200


def test_report_only_tabulates_finished_runs_with_their_provenance(tmp_path):
    tool = load_ablation_tool()
    record = {'recon/psnr_masked': 18., 'recon/psnr_masked_copy': 12.,
              'recon/psnr_masked_flat': 13., 'recon/psnr_masked_gain': 5., 'step': 1}
    vis = tmp_path / tool.run_name('quarter', 'learned', 'block', 0) / '2026' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(json.dumps(dict(iter=100, loss=1.)) + '\n'
                                      + json.dumps(record) + '\n')
    plans = tmp_path / 'plans'
    plans.mkdir()
    # validated but never exited cleanly: an interrupted run, not a result
    assert run_ablation(plans, tmp_path, '--report-only')[0] == []
    (vis.parents[1] / 'seconds.txt').write_text('90.0\n')
    (run, ), args = run_ablation(plans, tmp_path, '--report-only')
    assert run['recon/psnr_masked'] == 18. and run['curve'] == [[100, 18.]]
    assert run['seconds'] == 90. and run['commit'] == 'unknown'
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved['provenance']['command'] == 'tools/run_experiment.py ' + ' '.join(args)
    assert (tmp_path / 'curves.png').is_file()
    # A second --report-only keeps the provenance of what made the runs, and adds its own.
    made = dict(saved['provenance'], command='tools/run_experiment.py (the run)')
    (tmp_path / 'results.json').write_text(json.dumps(dict(saved, provenance=made)))
    run_ablation(plans, tmp_path, '--report-only')
    again = json.loads((tmp_path / 'results.json').read_text())['provenance']
    assert again['command'] == 'tools/run_experiment.py (the run)'
    assert again['reported']['command'] == saved['provenance']['command']


def test_a_resumed_run_keeps_the_later_validation_of_an_iteration(tmp_path):
    tool = load_ablation_tool()
    for stamp, records in (('20260101_000000', [(100, 17.), (200, 18.), (300, 18.5)]),
                           ('20260101_010000', [(300, 18.6), (400, 19.)])):
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        lines = [line for it, psnr in records for line in
                 (dict(iter=it, loss=1.), {'recon/psnr_masked': psnr, 'step': 1})]
        (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in lines))
    assert [[v['iter'], v['recon/psnr_masked']] for v in tool.validations(str(tmp_path))] \
        == [[100, 17.], [200, 18.], [300, 18.6], [400, 19.]]


def test_runs_from_an_earlier_results_file_complete_the_grid(tmp_path, capsys):
    tool = load_ablation_tool()
    earlier = [dict(fake_run(tool, 'quarter', op, 'block', 0, psnr), commit='abc1234',
                    curve=[[10, psnr]]) for op, psnr in (('learned', 16.), ('frozen', 15.))]
    results = tmp_path / 'published' / 'results.json'
    results.parent.mkdir()
    results.write_text(json.dumps(dict(runs=earlier)))
    work = tmp_path / 'work'
    runs, _ = run_ablation(tmp_path, work, '--report-only', '--runs-from', str(results),
                           seeds=(0, 1))
    assert [(r['name'], r['commit']) for r in runs] == [
        ('quarter_learned_block_seed0', 'abc1234'), ('quarter_frozen_block_seed0', 'abc1234')]
    assert 'quarter_learned_block_seed1: not started' in capsys.readouterr().out
    table = (tmp_path / 'work' / 'results.md').read_text()
    assert 'Runs trained at commit `abc1234`.' in table
    with pytest.raises(FileNotFoundError, match='--runs-from .*nope.json: no such file'):
        run_ablation(tmp_path, work, '--report-only', '--runs-from',
                     str(tmp_path / 'nope.json'))


@pytest.mark.e2e
def test_two_variant_smoke_ablation_trains_reads_and_resumes(tmp_path):
    work = tmp_path / 'ablation'
    options = dict(cfg_options=[f'train_dataloader.dataset.data_root={tmp_path / "demo"}',
                                f'val_dataloader.dataset.data_root={tmp_path / "demo"}',
                                'custom_hooks=[]'])
    runs, _ = run_ablation(tmp_path, work, **options)
    assert [r['name'] for r in runs] == ['quarter_learned_block_seed0',
                                         'quarter_frozen_block_seed0']
    assert all(r['iter'] == 4 for r in runs)  # the final validation of a 4-iteration run
    results = json.loads((work / 'results.json').read_text())
    assert len(results['rows']) == 2 and len(results['effects']) == 1
    assert 'learned - frozen' in (work / 'results.md').read_text()
    # the frozen run really kept A = B = 0, the learned one moved them
    import torch
    frozen = torch.load(work / 'quarter_frozen_block_seed0' / 'iter_4.pth',
                        weights_only=False)['state_dict']
    learned = torch.load(work / 'quarter_learned_block_seed0' / 'iter_4.pth',
                         weights_only=False)['state_dict']
    assert frozen['neck.A'].abs().sum() == 0 and learned['neck.A'].abs().sum() > 0
    # a second call trains nothing and reads the same numbers
    again, _ = run_ablation(tmp_path, work, **options)
    assert [r['recon/psnr_masked'] for r in again] == [r['recon/psnr_masked'] for r in runs]
    assert {r['commit'] for r in again} == {r['commit'] for r in runs} != {'unknown'}
    # a run killed after its last checkpoint resumes from it; one killed before its first
    # checkpoint starts over
    learned, frozen = (work / r['name'] for r in runs)
    (learned / 'seconds.txt').unlink()
    (frozen / 'seconds.txt').unlink()
    (frozen / 'last_checkpoint').unlink()
    resumed, _ = run_ablation(tmp_path, work, **options)
    assert [r['recon/psnr_masked'] for r in resumed] == pytest.approx(
        [r['recon/psnr_masked'] for r in runs], abs=1e-3)  # same seed, same data
    assert '--resume' in (learned / 'train.out').read_text().splitlines()[0]
    assert '--resume' not in (frozen / 'train.out').read_text().splitlines()[0]
    # --report-only over a larger grid tabulates the two finished runs and trains nothing
    report, _ = run_ablation(tmp_path, work, '--report-only', '--seeds', '0', '1', **options)
    assert [r['name'] for r in report] == ['quarter_learned_block_seed0',
                                           'quarter_frozen_block_seed0']
    assert not (work / 'quarter_learned_block_seed1').exists()


def test_missing_config_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match='config not found: .*nope.py'):
        run_ablation(tmp_path, tmp_path, config=tmp_path / 'nope.py')
    with pytest.raises(ValueError, match="`modes` must be a non-empty list of"):
        run_ablation(tmp_path, tmp_path, modes=('diagonal', ))
    with pytest.raises(ValueError, match="--only and --with choose a comparison's rows"):
        run_ablation(tmp_path, tmp_path, '--only', 'qbheat')


@pytest.mark.slow  # a tools/train.py process
def test_a_failed_run_names_itself_its_log_and_the_way_on(tmp_path):
    from qbheat_mm.utils.runs import RunFailed
    tool = load_ablation_tool()
    with pytest.raises(RunFailed, match=r'(?s)training of .*run failed with exit status 1; '
                       r'its log is .*train\.out\. Last lines:\n.*config file not found: '
                       r'\S*nope\.py.*Fix the cause and rerun'):
        tool.train('nope.py', str(tmp_path / 'run'), ['randomness.seed=0'])
