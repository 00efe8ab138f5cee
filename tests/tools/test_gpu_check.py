"""tools/dev/gpu_check.py, the device check, on the CPU: its plan's every command is one the
project's tools accept (each parsed by the tool's own parser), every config it names
exists, and it reads the logs and writes the tables it promises."""
import json
import shlex
import subprocess
from pathlib import Path

import pytest
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]


def plan(retinanet: bool = True) -> list:
    return load_tool('dev/gpu_check.py').steps('/tmp/w', '/tmp/site', retinanet)


def test_every_step_is_a_command_the_tools_accept():
    steps = plan()
    assert [s.name for s in steps] == ['install', 'mmcv_no_ops', 'pretrain', 'benchmark',
                                       'torchrun', 'mmcv_cpu_ops', 'retinanet',
                                       'retinanet_test']
    parsers = {'tools/train.py': load_tool('train.py').parse_args,
               'tools/test.py': load_tool('test.py').parse_args,
               'tools/benchmark.py': load_tool('benchmark.py').parse_args}
    checked = 0
    for step in steps:
        cmd = step.cmd
        if cmd[:2] == ['bash', 'tools/dist_train.sh']:  # CONFIG GPUS ARGS... -> train.py
            cmd = ['python', 'tools/train.py', cmd[2], *cmd[4:]]
        if len(cmd) > 1 and cmd[1] in parsers:
            args = parsers[cmd[1]](cmd[2:])
            assert args.config is None or (REPO / args.config).is_file(), step.name
            checked += 1
        assert step.timeout <= 420
    assert checked == 5
    assert sum(s.timeout for s in steps) <= 30 * 60  # every limit, each step at its worst
    pretrain = next(s for s in steps if s.name == 'pretrain')
    args = parsers['tools/train.py'](pretrain.cmd[2:])
    assert args.amp and args.amp_dtype == 'bfloat16' and args.channels_last
    bench = parsers['tools/benchmark.py'](next(s for s in steps if s.name == 'benchmark').cmd[2:])
    assert (bench.task, bench.peers) == ('gpu', ['qbheat', 'qbheat_lightdec', 'mocov2'])
    # the RetinaNet starts from the pre-training's checkpoint and its test from its own
    retina = next(s for s in steps if s.name == 'retinanet')
    assert 'model.backbone.init_cfg.checkpoint=/tmp/w/pretrain/iter_200.pth' in retina.cmd
    test = next(s for s in steps if s.name == 'retinanet_test')
    assert parsers['tools/test.py'](test.cmd[2:]).checkpoint == '/tmp/w/retinanet/epoch_12.pth'
    assert [s.name for s in plan(retinanet=False)][-1] == 'torchrun'


def test_the_mmcv_builds_patch_and_name_as_the_setup_does():
    steps = {s.name: s for s in plan()}
    no_ops, cpu_ops = (' '.join(steps[n].cmd) for n in ('mmcv_no_ops', 'mmcv_cpu_ops'))
    assert 'MMCV_WITH_OPS=0' in no_ops and 'MMCV_WITH_OPS=1 FORCE_CUDA=0' in cpu_ops
    setup = (REPO / 'scripts' / 'setup.sh').read_text()
    for script in (no_ops, cpu_ops):
        assert "sed -i 's/-std=c++17/-std=c++20/g' setup.py" in script
        name_patch = ("s/name='mmcv' if os.getenv('MMCV_WITH_OPS', '1') == '1' else "
                      "'mmcv-lite'/name='mmcv'/")
        assert name_patch in script and name_patch in setup
        assert '--target /tmp/site' in script


def test_the_dry_run_prints_and_runs_nothing(tmp_path, capsys):
    tool = load_tool('dev/gpu_check.py')
    assert tool.main(['run', str(tmp_path / 'out'), '--dry-run']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(':')[0] for line in lines] == [s.name for s in plan()]
    assert not (tmp_path / 'out').exists()
    out = subprocess.run(['bash', str(REPO / 'tools' / 'dev' / 'gpu_check.sh')],
                         capture_output=True, text=True)
    assert out.returncode == 2 and 'usage: bash tools/dev/gpu_check.sh OUT' in out.stderr


def test_it_reads_the_logs_and_writes_its_tables(tmp_path):
    tool = load_tool('dev/gpu_check.py')
    vis = tmp_path / 'pretrain' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    records = [dict(loss=2.0, iter=20), dict(loss=1.5, iter=200),
               {'recon/psnr_masked': 16.1, 'recon/psnr_masked_gain': 0.4, 'step': 1}]
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    read = tool.read_pretrain(str(tmp_path / 'pretrain'))
    assert read == dict(ok=True, first_loss=2.0, last_loss=1.5, finite=True,
                        psnr_masked=16.1, psnr_masked_gain=0.4)
    (vis / 'scalars.json').write_text(json.dumps(dict(loss=float('nan'))) + '\n')
    assert tool.read_pretrain(str(tmp_path / 'pretrain'))['ok'] is False
    test_dir = tmp_path / 'test' / '20260101_000000'
    test_dir.mkdir(parents=True)
    (test_dir / '20260101_000000.json').write_text(json.dumps({'coco/bbox_mAP': 0.25}) + '\n')
    assert tool.read_coco(str(tmp_path / 'test')) == dict(ok=True, bbox_mAP=0.25)
    summary = dict(gpu='NVIDIA H100', python='3.12.3', steps=[
        dict(name='pretrain', command='x', exit=0, seconds=50.0, ok=True, last_loss=1.5),
        dict(name='retinanet', command='y', exit=1, seconds=3.0, ok=False)])
    text = tool.markdown(summary, str(tmp_path / 'none.md'))
    assert '| pretrain | yes | 50.0 | last_loss 1.5 |' in text
    assert '| retinanet | NO (exit 1) | 3.0 |  |' in text


@pytest.mark.parametrize('name', ['dev/gpu_check.py'])
def test_its_docstring_names_the_shell_wrapper_and_the_results(name):
    doc = load_tool(name).__doc__
    assert 'bash tools/dev/gpu_check.sh OUT' in doc and 'results.md' in doc
    assert shlex.split('python tools/dev/gpu_check.py prepare')[1] in doc
