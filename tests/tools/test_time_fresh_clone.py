"""tools/dev/time_fresh_clone.py: clones, runs each make step, and tabulates what the
steps' logs say (the demo's last masked PSNR, the suite's summary and slowest tests)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'dev'))
import time_fresh_clone  # noqa: E402


def test_runs_each_step_in_a_fresh_clone_and_records_its_status(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    (repo / 'Makefile').write_text('setup:\n\t@echo set up; touch made_here\n'
                                   'demo:\n\t@echo "recon/psnr_masked: 12.50  '
                                   'recon/psnr_masked_copy: 10.00  '
                                   'recon/psnr_masked_flat: 11.25"\n'
                                   'test:\n\t@exit 3\n')
    for cmd in (['init', '-q'], ['add', 'Makefile'],
                ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'm']):
        subprocess.run(['git', *cmd], cwd=repo, check=True)
    out = tmp_path / 'out'
    code = time_fresh_clone.main(['--repo', str(repo), '--work-dir', str(out)])
    assert code == 1  # make test failed, and the tool says so
    timings = json.loads((out / 'timings.json').read_text())
    assert {s: t['returncode'] for s, t in timings['steps'].items()} == dict(
        setup=0, demo=0, test=2)  # make reports a failed recipe as 2
    assert not (repo / 'made_here').exists()  # it ran in the clone, not in the repository
    assert (Path(timings['clone']) / 'made_here').exists()
    md = (out / 'results.md').read_text()
    assert '| `make demo` | 0 |' in md and 'masked PSNR 12.50 dB (flat 11.25, copy 10.00)' in md


def test_tabulates_the_suites_summary_and_slowest_tests(tmp_path):
    (tmp_path / 'timings.json').write_text(json.dumps(dict(
        commit='abc1234', steps=dict(test=dict(returncode=0, seconds=800.0)))))
    (tmp_path / 'test.log').write_text(
        'tests/a.py ....\n'
        '============================= slowest 25 durations =============================\n'
        '330.12s call     tests/experiments/test_pipeline.py::test_smoke\n'
        '17.79s setup    tests/models/test_x.py::test_y\n'
        '===== 1010 passed, 6 skipped, 409 warnings in 783.14s (0:13:03) =====\n')
    assert time_fresh_clone.main(['--tabulate', str(tmp_path)]) == 0
    result = json.loads((tmp_path / 'results.json').read_text())
    assert result['suite'] == dict(summary='1010 passed, 6 skipped, 409 warnings',
                                   seconds=783.14)
    assert result['slowest'] == [
        dict(seconds=330.12, phase='call', test='tests/experiments/test_pipeline.py::test_smoke'),
        dict(seconds=17.79, phase='setup', test='tests/models/test_x.py::test_y')]
    md = (tmp_path / 'results.md').read_text()
    assert 'commit `abc1234`' in md and '1010 passed, 6 skipped, 409 warnings in 783 s' in md
