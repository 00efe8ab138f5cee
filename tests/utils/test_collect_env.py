import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_env_report_shows_versions_and_compiled_mmcv_ops():
    out = subprocess.run([sys.executable, str(REPO / 'tools' / 'collect_env.py')],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = dict(line.split(' : ', 1) for line in out.stdout.splitlines() if ' : ' in line)
    report = {k.strip(): v for k, v in report.items()}
    assert report['torch'].startswith('2.14.1')
    assert report['mmengine'] == '0.10.7'
    assert report['mmcv'] == '2.1.0'
    assert report['mmdet'] == '3.3.0'
    assert report['mmpretrain'] == '1.2.0'
    assert report['mmcv ops'].startswith('compiled (')
    assert report['CUDA available'] in ('True', 'False')
    assert report['git commit']
