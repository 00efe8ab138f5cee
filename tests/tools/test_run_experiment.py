"""tools/run_experiment.py: every plan under configs/experiments/ loads and dry-runs, and
plans of either kind are told apart."""
from pathlib import Path

import pytest
from tool_loader import load_tool

from qbheat_mm.experiments import PLAN_TYPES, load_plan

REPO = Path(__file__).resolve().parents[2]
PLANS = sorted((REPO / 'configs' / 'experiments').glob('*.py'))


@pytest.mark.parametrize('path', PLANS, ids=lambda p: p.name)
def test_every_plan_loads_states_its_kind_and_dry_runs(path, tmp_path, capsys):
    assert "type = '" in path.read_text() or "_base_ = './laptop.py'" in path.read_text()
    plan = load_plan(str(path))
    assert plan['type'] in PLAN_TYPES
    assert load_tool('run_experiment.py').main(
        [str(path), '--work-dir', str(tmp_path), '--dry-run', '--seeds', '0']) == []
    printed = capsys.readouterr().out
    if plan['type'] == 'ablation':  # one training per variant of the grid, seed 0
        runs = len(plan['scopes']) * len(plan['operators']) * len(plan['modes'])
        assert printed.count('tools/train.py') == runs
        assert printed.count('randomness.seed=0') == runs
    else:  # every pre-training's stages, then its evaluations
        assert all(f"[{p['name']} seed 0]" in printed for p in plan['pretrainings'])
    assert not any(tmp_path.rglob('*.pth')), 'a dry run trains nothing'


def test_the_kind_comes_from_the_plan(tmp_path):
    path = tmp_path / 'plan.py'
    path.write_text("config = 'configs/qbheat_mobileformer_demo.py'\n")
    assert load_plan(str(path))['type'] == 'ablation'  # names a config: a grid of it
    path.write_text("title = 'nothing to run'\n")
    with pytest.raises(ValueError, match=r"`type` must be one of \['ablation', "
                       r"'comparison'\], got None"):
        load_plan(str(path))
    with pytest.raises(FileNotFoundError, match='plan file not found'):
        load_plan(str(tmp_path / 'nope.py'))
