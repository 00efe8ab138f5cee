import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qbheat_mm.utils import collect_env as ce

REPO = Path(__file__).resolve().parents[2]


def setup_cfg_pins() -> dict:
    """``name -> version`` of the ``name==version`` pins in setup.cfg (their one home)."""
    pins = {}
    for line in (REPO / 'setup.cfg').read_text().splitlines():
        name, sep, version = line.strip().partition('==')
        if sep and name and not name.startswith('#'):
            pins[name.strip()] = version.strip()
    return pins


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_env_report_shows_versions_mmcv_ops_flavour_and_gpu_nms():
    out = subprocess.run([sys.executable, str(REPO / 'tools' / 'collect_env.py')],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = dict(line.split(' : ', 1) for line in out.stdout.splitlines() if ' : ' in line)
    report = {k.strip(): v for k, v in report.items()}
    pins = setup_cfg_pins()
    assert report['torch'].startswith(pins['torch'])  # a local build suffix may follow
    for package in ('mmengine', 'mmcv', 'mmdet', 'mmpretrain'):
        assert report[package] == pins[package], package
    assert report['CUDA available'] in ('True', 'False')
    assert report['git commit']
    if torch.cuda.is_available():
        assert report['mmcv ops'].startswith('compiled, CUDA ops (')
        assert report['NMS on GPU'].startswith('yes (batched_nms on ')
    else:  # what scripts/setup.sh builds without a GPU
        assert report['mmcv ops'].startswith('compiled, CPU-only ops (compiler: GCC ')
        assert report['mmcv ops'].endswith(', CUDA: not available)')
        assert report['NMS on GPU'] == 'no GPU'


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_short_report_names_the_flavour_and_gpu_nms():
    out = subprocess.run([sys.executable, '-m', 'qbheat_mm.utils.collect_env', '--short'],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    if not torch.cuda.is_available():
        assert out.stdout.rstrip().endswith(
            '| mmcv ops: compiled, CPU-only ops | NMS on GPU: no GPU')


def test_batched_nms_keeps_one_box_per_overlapping_class():
    assert ce.batched_nms_keeps('cpu') == [0, 2]


def test_mmcv_ops_flavour_follows_the_compiled_cuda_version(monkeypatch):
    import mmcv.ops
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version', lambda: '13.0')
    monkeypatch.setattr(mmcv.ops, 'get_compiler_version', lambda: 'GCC 12.2')
    assert ce.mmcv_ops_status() == 'compiled, CUDA ops (compiler: GCC 12.2, CUDA: 13.0)'
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version', lambda: 'not available')
    assert ce.mmcv_ops_status().startswith('compiled, CPU-only ops (')


def test_gpu_nms_failure_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)

    def cpu_only_nms(device):
        if device == 'cuda':
            raise RuntimeError('nms_impl: implementation for device cuda:0 not found.\n...')
        return [0, 2]

    monkeypatch.setattr(ce, 'batched_nms_keeps', cpu_only_nms)
    assert ce.nms_on_gpu_status() == (
        'NO (RuntimeError: nms_impl: implementation for device cuda:0 not found.)')
    monkeypatch.setattr(ce, 'batched_nms_keeps', lambda device: [0] if device == 'cuda'
                        else [0, 2])
    assert ce.nms_on_gpu_status() == 'NO (batched_nms on cuda kept boxes [0], on cpu [0, 2])'


@pytest.mark.parametrize('ops,exit_code,stderr', [
    ('compiled, CUDA ops (compiler: GCC 12.2, CUDA: 13.0)', 1, 'Broken: NMS on GPU: NO'),
    ('compiled, CPU-only ops (compiler: GCC 12.2, CUDA: not available)', 0,
     "Note: mmcv has CPU-only ops on a GPU machine: the project's detection configs run on "
     'the GPU through their fallbacks'),
])
def test_failing_gpu_nms_breaks_cuda_builds_and_warns_for_cpu_only_ones(
        monkeypatch, capsys, ops, exit_code, stderr):
    monkeypatch.setattr(ce, 'mmcv_ops_status', lambda: ops)
    monkeypatch.setattr(ce, 'nms_on_gpu_status', lambda: 'NO (RuntimeError: not found)')
    assert ce.main(['--short']) == exit_code
    err = capsys.readouterr().err
    assert err.startswith(stderr)
