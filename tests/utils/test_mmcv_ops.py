"""The main job's set-up level (mmcv without compiled ops): whatever needs the ops stops at
once, naming the one command that builds them; the environment report calls it a level,
not a broken install. Simulated by hiding mmcv's compiled extension from the import
system in a fresh process."""
import subprocess
import sys
from pathlib import Path

import pytest

from qbheat_mm.utils import mmcv_ops

REPO = Path(__file__).resolve().parents[2]
HIDE_OPS = ('import importlib.util as u; real = u.find_spec; '
            "u.find_spec = lambda name, *a: None if name == 'mmcv._ext' else real(name, *a); ")


def without_ops(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', HIDE_OPS + code], capture_output=True,
                          text=True, cwd=REPO, timeout=300)


def test_this_environment_has_the_ops_and_requiring_them_passes():
    assert mmcv_ops.mmcv_ops_installed()  # make test runs at the detection level
    mmcv_ops.require_mmcv_ops('a test')


def test_without_ops_the_requirement_names_what_and_the_fix(monkeypatch):
    monkeypatch.setattr(mmcv_ops, 'mmcv_ops_installed', lambda: False)
    with pytest.raises(mmcv_ops.MissingMmcvOpsError,
                       match=r'(?s)a RetinaNet needs MMDetection, .* mmcv without them.*'
                       r'make setup-det'):
        mmcv_ops.require_mmcv_ops('a RetinaNet')


@pytest.mark.slow  # fresh processes
def test_a_detection_config_stops_at_once_and_the_main_job_does_not():
    config = 'configs/detection/retinanet_mobileformer-294m-frozen_fpn_1xb8-6e_demo-coco.py'
    # the project's tools read configs through read_config: the named stop is the error
    out = without_ops(f"from qbheat_mm.apis.inference import read_config; read_config({config!r})")
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith('qbheat_mm.utils.mmcv_ops.MissingMmcvOpsError: ') and \
        last.endswith('make setup-det'), last
    assert 'mmcv._ext' not in out.stderr and 'PYTHONPATH' not in out.stderr
    # MMEngine's own reading (MMDetection's tools) shows it inside its import error
    out = without_ops(f"from mmengine.config import Config; Config.fromfile({config!r})")
    assert out.returncode != 0 and 'make setup-det' in out.stderr
    # the main job reads and builds its configs without the ops
    out = without_ops('import qbheat_mm; from qbheat_mm.apis import init_model; '
                      "init_model('configs/qbheat_mobileformer_demo.py')")
    assert out.returncode == 0, out.stderr
    out = without_ops('from qbheat_mm.utils.collect_env import main; raise SystemExit(main('
                      "['--short']))")
    assert out.returncode == 0, out.stderr
    assert 'mmcv ops: none' in out.stdout
