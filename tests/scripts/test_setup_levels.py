"""scripts/setup.sh's two levels: the arguments and the level conflicts it refuses before
installing anything (a whole set-up from a clean clone is what CI runs)."""
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / 'scripts' / 'setup.sh'


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != 'QBHEAT_MMCV_OPS'}
    return subprocess.run([shutil.which('bash'), str(SETUP), *args], capture_output=True,
                          text=True, env={**clean, **env}, timeout=60)


def test_an_unknown_argument_is_refused():
    out = run('--detect')
    assert out.returncode == 2
    assert "unknown argument '--detect' (expected nothing, or --detection)" in out.stderr


def test_detection_without_ops_is_refused_naming_the_fix():
    out = run('--detection', QBHEAT_MMCV_OPS='none')
    assert out.returncode == 2
    assert 'QBHEAT_MMCV_OPS=none asks for mmcv without its compiled ops' in out.stderr
    assert 'unset it (or QBHEAT_MMCV_OPS=auto)' in out.stderr


def test_the_makefile_runs_each_target_at_its_level():
    text = (REPO / 'Makefile').read_text()
    assert 'setup:\n\t@bash scripts/setup.sh\n' in text
    assert 'setup-det:\n\t@bash scripts/setup.sh --detection\n' in text
    assert '\ndemo: setup\n' in text  # the main job: no compiled ops
    for target in ('test', 'test-fast'):  # every test, detection included
        assert f'\n{target}: setup-det lint\n' in text
    for target in ('compare', 'compare-long', 'study', 'decoder-ablation'):  # RetinaNet
        assert f'\n{target}: setup-det\n' in text
