"""Which mmcv ops scripts/setup.sh builds (scripts/mmcv_flavour.sh), decided with stand-ins:
a fake Python whose "torch" reports GPUs, fake nvcc binaries printing other CUDA releases, a
PATH that holds nothing else. Nothing is built or downloaded."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'scripts' / 'mmcv_flavour.sh'
BASH = shutil.which('bash')
# The only programs the decision may run besides the stand-ins.
TOOLS = ('sed', 'awk', 'sort', 'paste', 'head', 'nproc', 'env', 'cat', 'dirname',
         'readlink')
GIB_KIB = 1024 * 1024


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A PATH directory with the tools the script needs and no nvcc."""
    bin_dir = tmp_path / 'sysbin'
    bin_dir.mkdir()
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return tmp_path


def fake_python(root: Path, caps: list[str], torch_cuda: str = '13.0',
                names: str = '') -> Path:
    """A "python" that answers the torch probe: torch's CUDA, GPU count, capabilities,
    names (the script's probe prints exactly these four lines)."""
    names = names or (f'{len(caps)}x NVIDIA H200' if caps else '-')
    path = root / f'python-{len(list(root.glob("python-*")))}'
    path.write_text('#!/bin/sh\n'
                    f'printf "%s\\n" "{torch_cuda}" "{len(caps)}" '
                    f'"{" ".join(sorted(set(caps))) or "-"}" "{names}"\n')
    path.chmod(0o755)
    return path


def fake_toolkit(home: Path, release: str,
                 headers=('cuda_runtime_api.h', 'cusparse.h', 'cublas_v2.h', 'cublasLt.h',
                          'cusolverDn.h')) -> Path:
    """A CUDA toolkit folder whose bin/nvcc prints ``release`` the way nvcc does, with the
    library headers torch's CUDA headers include."""
    (home / 'bin').mkdir(parents=True)
    (home / 'include').mkdir()
    for header in headers:
        (home / 'include' / header).touch()
    nvcc = home / 'bin' / 'nvcc'
    nvcc.write_text('#!/bin/sh\n'
                    'echo "nvcc: NVIDIA (R) Cuda compiler driver"\n'
                    f'echo "Cuda compilation tools, release {release}, V{release}.41"\n')
    nvcc.chmod(0o755)
    return home


def decide(sandbox: Path, python: Path, path_dirs: tuple[Path, ...] = (),
           locations: str = '', **env: str) -> subprocess.CompletedProcess:
    """Run the decision as setup.sh would, in a clean environment."""
    full_env = {'PATH': os.pathsep.join([*map(str, path_dirs), str(sandbox / 'sysbin')]),
                'HOME': str(sandbox), 'QBHEAT_CUDA_LOCATIONS': locations, **env}
    return subprocess.run([BASH, str(SCRIPT), str(python)], capture_output=True, text=True,
                          env=full_env, timeout=30)


def parsed(out: subprocess.CompletedProcess) -> dict[str, str]:
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    result = dict(line.split('=', 1) for line in lines[1:])
    result['decision'] = lines[0]
    result['build_env'] = dict(item.split('=', 1) for item in result['build_env'].split())
    return result


def test_cpu_machine_builds_cpu_ops_even_with_a_toolkit(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda', '13.0')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=[]), (cuda / 'bin',)))
    assert result['flavour'] == 'cpu'  # setup.sh's cache folder ends in _cpu, as before
    assert result['decision'] == 'mmcv ops: CPU-only (torch sees no GPU)'
    assert result['build_env'] == {'CUDA_VISIBLE_DEVICES': ''}


def test_this_machine_decides_cpu_with_the_real_torch(sandbox):
    result = parsed(decide(sandbox, Path(sys.executable)))
    assert result['flavour'] == 'cpu'


def test_gpu_with_matching_nvcc_on_path_builds_cuda_ops_for_its_architecture(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda-13.0', '13.0')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']), (cuda / 'bin',)))
    assert result['flavour'] == 'cuda13.0_sm90'
    env = result['build_env']
    assert env['FORCE_CUDA'] == '1'
    assert env['CUDA_HOME'] == str(cuda)
    assert env['TORCH_CUDA_ARCH_LIST'] == '9.0'
    assert env['PATH'].startswith(f'{cuda}/bin:')
    assert result['decision'] == (
        "mmcv ops: CUDA, for TORCH_CUDA_ARCH_LIST='9.0' (torch sees 1x NVIDIA H200), built "
        f"with {cuda}/bin/nvcc (CUDA 13.0; torch's CUDA 13.0)")


def test_same_major_nvcc_is_accepted_and_named_in_the_decision(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda', '13.1')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']), (cuda / 'bin',)))
    assert result['flavour'] == 'cuda13.0_sm90'
    assert "(CUDA 13.1; torch's CUDA 13.0)" in result['decision']


def test_gpu_with_nvcc_of_another_major_version_builds_cpu_ops_for_the_fallbacks(sandbox):
    """No toolkit of torch's CUDA: CPU ops, detection on the GPU through the fallbacks its
    configs name, and the way to mmcv's CUDA kernels named."""
    old = fake_toolkit(sandbox / 'cuda-12.4', '12.4')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']), (old / 'bin',)))
    assert result['flavour'] == 'cpu'
    assert result['build_env'] == {'CUDA_VISIBLE_DEVICES': ''}
    decision = result['decision']
    assert decision.startswith("mmcv ops: CPU-only: torch sees 1x NVIDIA H200 but no nvcc of "
                               "torch's CUDA 13.x was found")
    assert f'{old}/bin/nvcc: CUDA 12.4' in decision
    assert 'detection runs on the GPU through the fallbacks' in decision
    assert 'QBHEAT_MMCV_OPS=cuda' in decision


def test_cuda_asked_for_with_nvcc_of_another_major_version_stops_before_building(sandbox):
    old = fake_toolkit(sandbox / 'cuda-12.4', '12.4')
    out = decide(sandbox, fake_python(sandbox, caps=['9.0']), (old / 'bin',),
                 QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert out.stdout == ''
    message = out.stderr
    assert message.startswith('mmcv ops: STOP\n')
    assert 'torch sees 1x NVIDIA H200 and torch is built with CUDA 13.0' in message
    assert 'nvcc from a CUDA 13.x toolkit; none was found' in message
    assert f'{old}/bin/nvcc: CUDA 12.4' in message
    # The two ways on, and what the opt-in costs.
    assert '1. install a full CUDA 13.x toolkit: nvcc and the cuBLAS' in message
    assert '2. rerun with QBHEAT_MMCV_OPS=cpu for CPU-only mmcv ops' in message
    assert "mmcv's other CUDA kernels are then missing" in message


def test_gpu_without_any_toolkit_names_what_was_searched(sandbox):
    out = decide(sandbox, fake_python(sandbox, caps=['8.6']),
                 locations=str(sandbox / 'nowhere-*'), QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert 'CUDA_HOME: not set; PATH: no nvcc; no nvcc in ' \
           f'{sandbox}/nowhere-*' in ' '.join(out.stderr.split())
    assert 'QBHEAT_MMCV_OPS=cpu' in out.stderr


def test_no_ops_need_no_torch_probe_and_no_compiler(sandbox):
    broken = sandbox / 'python-no-torch'
    broken.write_text('#!/bin/sh\nexit 1\n')
    broken.chmod(0o755)
    result = parsed(decide(sandbox, broken, QBHEAT_MMCV_OPS='none'))
    assert result['flavour'] == 'noops'
    assert result['build_env'] == {'MMCV_WITH_OPS': '0', 'CUDA_VISIBLE_DEVICES': ''}
    assert result['decision'] == ('mmcv ops: none (the main job needs none; detection: make '
                                  'setup-det)')


def test_usual_locations_are_searched_after_path(sandbox):
    old = fake_toolkit(sandbox / 'path-cuda', '12.4')
    fake_toolkit(sandbox / 'opt' / 'cuda-12.8', '12.8')
    new = fake_toolkit(sandbox / 'opt' / 'cuda-13.0', '13.0')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']), (old / 'bin',),
                           locations=f'{sandbox}/opt/cuda-*'))
    assert result['build_env']['CUDA_HOME'] == str(new)


def test_symlinked_nvcc_on_path_resolves_to_its_toolkit(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda-13.0', '13.0')
    (sandbox / 'cuda').symlink_to(cuda)  # /usr/local/cuda -> cuda-13.0
    (sandbox / 'bin').mkdir()
    (sandbox / 'bin' / 'nvcc').symlink_to(sandbox / 'cuda' / 'bin' / 'nvcc')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']), (sandbox / 'bin',),
                           locations=f'{sandbox}/cuda {sandbox}/cuda-*'))
    assert result['build_env']['CUDA_HOME'] == str(cuda)
    old = fake_toolkit(sandbox / 'cuda-12.4', '12.4')
    (sandbox / 'bin' / 'nvcc').unlink()
    (sandbox / 'bin' / 'nvcc').symlink_to(old / 'bin' / 'nvcc')
    (sandbox / 'cuda').unlink()
    (sandbox / 'cuda').symlink_to(old)
    out = decide(sandbox, fake_python(sandbox, caps=['9.0']), (sandbox / 'bin',),
                 locations=f'{sandbox}/cuda {sandbox}/cuda-12*', QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert ' '.join(out.stderr.split()).count('nvcc: CUDA 12.4') == 1  # each toolkit once


def test_cuda_home_is_the_only_toolkit_considered_when_set(sandbox):
    old = fake_toolkit(sandbox / 'cuda-12.4', '12.4')
    good = fake_toolkit(sandbox / 'cuda-13.0', '13.0')
    out = decide(sandbox, fake_python(sandbox, caps=['9.0']), (good / 'bin',),
                 CUDA_HOME=str(old), QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert f'CUDA_HOME={old}; {old}/bin/nvcc: CUDA 12.4' in ' '.join(out.stderr.split())
    assert parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']),
                         CUDA_HOME=str(good)))['build_env']['CUDA_HOME'] == str(good)


def test_toolkit_without_the_library_headers_torch_includes_is_passed_over(sandbox):
    bare = fake_toolkit(sandbox / 'nvcc-only', '13.0', headers=('cuda_runtime_api.h',))
    python = fake_python(sandbox, caps=['9.0'])
    out = decide(sandbox, python, (bare / 'bin',), QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert (f'{bare}/bin/nvcc: CUDA 13.0, but {bare}/include lacks cusparse.h cublas_v2.h '
            'cublasLt.h cusolverDn.h') in ' '.join(out.stderr.split())
    assert 'install a full CUDA 13.x toolkit' in out.stderr
    full = fake_toolkit(sandbox / 'opt' / 'cuda-13.0', '13.0')
    result = parsed(decide(sandbox, python, (bare / 'bin',), locations=f'{sandbox}/opt/*'))
    assert result['build_env']['CUDA_HOME'] == str(full)


def test_cuda_home_without_nvcc_stops(sandbox):
    empty = sandbox / 'not-a-toolkit'
    empty.mkdir()
    out = decide(sandbox, fake_python(sandbox, caps=['9.0']), CUDA_HOME=str(empty),
                 QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert f'{empty}/bin/nvcc: missing' in out.stderr


def test_cpu_opt_in_on_a_gpu_machine_hides_the_gpu_from_the_build(sandbox):
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']),
                           QBHEAT_MMCV_OPS='cpu'))
    assert result['flavour'] == 'cpu'
    assert result['build_env'] == {'CUDA_VISIBLE_DEVICES': ''}
    assert result['decision'] == (
        'mmcv ops: CPU-only, as QBHEAT_MMCV_OPS=cpu asks, although torch sees 1x NVIDIA '
        'H200: detection runs on the GPU through the fallbacks its configs name (PyTorch '
        "focal loss, torchvision NMS); mmcv's CUDA kernels are missing")


def test_several_gpu_architectures_are_all_targets_and_in_the_key(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda', '13.0')
    python = fake_python(sandbox, caps=['9.0', '8.6', '9.0'],
                         names='2x NVIDIA H200, 1x NVIDIA A40')
    result = parsed(decide(sandbox, python, (cuda / 'bin',)))
    assert result['flavour'] == 'cuda13.0_sm86-sm90'
    assert result['build_env']['TORCH_CUDA_ARCH_LIST'] == '8.6;9.0'
    assert '(torch sees 2x NVIDIA H200, 1x NVIDIA A40)' in result['decision']


def test_explicit_arch_list_is_normalised_into_the_key(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda', '13.0')
    result = parsed(decide(sandbox, fake_python(sandbox, caps=['9.0']), (cuda / 'bin',),
                           TORCH_CUDA_ARCH_LIST='9.0 8.0+PTX'))
    assert result['flavour'] == 'cuda13.0_sm80ptx-sm90'
    assert result['build_env']['TORCH_CUDA_ARCH_LIST'] == '8.0+PTX;9.0'


def test_arch_list_that_misses_this_gpu_stops(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda', '13.0')
    out = decide(sandbox, fake_python(sandbox, caps=['9.0']), (cuda / 'bin',),
                 TORCH_CUDA_ARCH_LIST='8.0;8.6')
    assert out.returncode == 1
    assert "TORCH_CUDA_ARCH_LIST='8.0;8.6' does not cover this machine's GPU" in out.stderr
    assert 'compute capability 9.0' in out.stderr


@pytest.mark.parametrize('cap,archs,covered', [
    ('8.6', '8.0', True),        # same major, older minor: binary compatible
    ('8.0', '8.6', False),
    ('9.0', '8.6', False),
    ('9.0', '8.0+PTX', True),    # PTX is compiled just in time for newer GPUs
    ('8.0', '8.6+PTX', False),
    ('9.0', '9.0a', True),
    ('12.0', '9.0;12.0', True),
])
def test_arch_coverage(cap, archs, covered):
    out = subprocess.run([BASH, '-c', f'source {SCRIPT}; mmcv_archs_cover "$1" "$2"', '_',
                          cap, archs], capture_output=True, timeout=10)
    assert (out.returncode == 0) == covered


def test_cuda_opt_in_builds_without_a_visible_gpu_for_the_arch_list(sandbox):
    cuda = fake_toolkit(sandbox / 'cuda', '13.0')
    python = fake_python(sandbox, caps=[])
    out = decide(sandbox, python, (cuda / 'bin',), QBHEAT_MMCV_OPS='cuda')
    assert out.returncode == 1
    assert 'set\n  TORCH_CUDA_ARCH_LIST to the GPUs the build is for' in out.stderr
    result = parsed(decide(sandbox, python, (cuda / 'bin',), QBHEAT_MMCV_OPS='cuda',
                           TORCH_CUDA_ARCH_LIST='9.0'))
    assert result['flavour'] == 'cuda13.0_sm90'
    assert '(QBHEAT_MMCV_OPS=cuda asks for CUDA ops)' in result['decision']


def test_cuda_opt_in_with_a_cpu_only_torch_stops(sandbox):
    out = decide(sandbox, fake_python(sandbox, caps=[], torch_cuda='-'),
                 QBHEAT_MMCV_OPS='cuda', TORCH_CUDA_ARCH_LIST='9.0')
    assert out.returncode == 1
    assert 'this torch is not a CUDA build' in out.stderr


def test_unknown_opt_in_value_stops(sandbox):
    out = decide(sandbox, fake_python(sandbox, caps=[]), QBHEAT_MMCV_OPS='gpu')
    assert out.returncode == 1
    assert 'QBHEAT_MMCV_OPS=gpu: expected auto, none, cpu or cuda.' in out.stderr


def test_python_without_torch_stops(sandbox):
    broken = sandbox / 'python-broken'
    broken.write_text('#!/bin/sh\necho "ModuleNotFoundError: torch" >&2\nexit 1\n')
    broken.chmod(0o755)
    out = decide(sandbox, broken)
    assert out.returncode == 1
    assert 'could not import torch' in out.stderr


@pytest.mark.parametrize('kind,cores,mem_gib,jobs', [
    ('cpu', 2, 21, 2),      # this machine: cores bound
    ('cuda', 16, 20, 10),   # memory bound: 2 GiB per nvcc job
    ('cpu', 16, 20, 16),
    ('cuda', 64, 7.9, 3),
    ('cuda', 8, 1, 1),      # never fewer than one job
    ('none', 16, 64, 1),    # no ops: nothing to compile
])
def test_max_jobs_fit_cores_and_memory(kind, cores, mem_gib, jobs):
    out = subprocess.run([BASH, '-c', f'source {SCRIPT}; mmcv_max_jobs "$@"', '_', kind,
                          str(cores), str(int(mem_gib * GIB_KIB))],
                         capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == str(jobs)


def test_max_jobs_default_and_override_on_this_machine(sandbox):
    python = fake_python(sandbox, caps=[])
    jobs = int(parsed(decide(sandbox, python))['max_jobs'])
    assert 1 <= jobs <= len(os.sched_getaffinity(0))
    assert parsed(decide(sandbox, python, MAX_JOBS='7'))['max_jobs'] == '7'
