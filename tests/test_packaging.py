"""The installed package, not the checkout: a wheel built from this tree, installed into a
fresh virtual environment and imported from outside the repository, still lists and builds
the project's models and finds its configs by name (they ship under qbheat_mm/.mim/)."""
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

INSTALLED_USE = """
import mmpretrain, qbheat_mm
from qbheat_mm.apis import MODEL_INDEX, config_path, init_model
assert qbheat_mm.__file__.startswith({venv!r}), qbheat_mm.__file__
assert '.mim' in str(MODEL_INDEX), MODEL_INDEX
names = mmpretrain.list_models('*qbheat*')
assert 'qbheat_mobileformer-294m_8xb256-coslr-300e_in1k' in names, names
print(type(mmpretrain.get_model('qbheat_mobileformer-294m_8xb256-coslr-300e_in1k')).__name__)
demo = 'qbheat_mm::qbheat/qbheat_mobileformer-294m_1xb16-800i_demo-photos.py'
assert config_path(demo).startswith({venv!r})
print(type(init_model(demo)).__name__, len(names))
"""


@pytest.mark.slow
def test_a_wheel_in_a_fresh_environment_ships_the_configs_and_the_model_index(tmp_path):
    # Built from a copy of the files git tracks (or would), as from a fresh clone; the
    # build's own folders then stay out of the checkout.
    source = tmp_path / 'src'
    files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in files.splitlines():
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(source), '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist')], check=True,
                   cwd=tmp_path)
    (wheel, ) = (tmp_path / 'dist').glob('qbheat_mm-*.whl')
    shipped = zipfile.ZipFile(wheel).namelist()
    configs = sorted(p.relative_to(REPO).as_posix() for p in (REPO / 'configs').rglob('*.py'))
    assert {f'qbheat_mm/.mim/{c}' for c in configs} <= set(shipped)
    assert 'qbheat_mm/.mim/model-index.yml' in shipped
    assert not any('/tests/' in name or name.startswith('tests/') for name in shipped)

    # A fresh environment: the package from the wheel; the pinned stack (torch, the
    # OpenMMLab packages) borrowed from this one through a .pth file, not reinstalled.
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    (site_packages, ) = venv.glob('lib/python*/site-packages')
    (site_packages / 'pinned_stack.pth').write_text(site.getsitepackages()[0] + '\n')
    subprocess.run([str(venv / 'bin' / 'pip'), 'install', '-q', '--no-deps', '--no-index',
                    str(wheel)], check=True)
    out = subprocess.run([str(venv / 'bin' / 'python'), '-c',
                          INSTALLED_USE.format(venv=str(venv))], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    import mmpretrain

    import qbheat_mm  # noqa: F401  (registers the checkout's index here)
    expected = len(mmpretrain.list_models('*qbheat*'))
    assert out.stdout.split()[-3:] == ['QBHeat', 'QBHeat', str(expected)], out.stdout
