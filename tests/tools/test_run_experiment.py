"""tools/run_experiment.py: every plan under configs/experiments/ loads and dry-runs, the
way a user starts it, and its errors reach the user as one line."""
import subprocess
import sys
from pathlib import Path

import pytest
from tool_loader import load_tool

from qbheat_mm.experiments import load_plan
from qbheat_mm.experiments.plan import select_evaluations
from qbheat_mm.experiments.stages import row_stages

REPO = Path(__file__).resolve().parents[2]
PLANS = sorted((REPO / 'configs' / 'experiments').glob('*.py'))


@pytest.mark.parametrize('path', PLANS, ids=lambda p: p.name)
def test_every_plan_loads_and_dry_runs_every_row(path, tmp_path, capsys):
    plan = select_evaluations(load_plan(str(path)), None)  # optional ones left out
    assert load_tool('run_experiment.py').main(
        [str(path), '--work-dir', str(tmp_path), '--dry-run', '--seeds', '0']) == []
    printed = capsys.readouterr().out.splitlines()
    for p in plan['pretrainings']:
        mine = [line for line in printed if line.startswith(f"[{p['name']} seed 0] ")]
        # every stage that runs a process prints its command (a validation is read, not run)
        expected = [s for s in row_stages(plan, p) if s not in {
            e['name'] for e in plan['evaluations'] if e['kind'] == 'validation'}]
        assert [line.split('] ')[1].split(':')[0] for line in mine] == expected, p['name']
        assert all('randomness.seed=0' in line for line in mine
                   if 'tools/train.py' in line or 'dist_train.sh' in line)
    assert not any(tmp_path.rglob('*.pth')), 'a dry run trains nothing'


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_errors_reach_the_user_as_one_line(tmp_path):
    plan = tmp_path / 'plan.py'
    plan.write_text("type = 'ablation'\nconfig = 'nope.py'\n")
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / 'run_experiment.py'), str(plan),
                           '--work-dir', str(tmp_path)], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith('run_experiment: ')
    assert 'config not found: nope.py' in proc.stderr
