"""The launch scripts: two single-process "nodes" on one machine (NNODES=2), slurm's
command line, and the bad inputs that must stop with a message naming the fix (no torchrun
environment, a port in use, malformed arguments)."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from dist_helpers import (LAUNCH_TIMEOUT, PHOTOS, REPO, TOOLS, assert_ranks_identical,
                          dist_env, free_port, output, rank_states, run, write_config)
from qbheat_mm.engine.cli import LauncherEnvError
from tool_loader import load_tool

pytestmark = pytest.mark.dist

SCRIPTS = ['dist_train.sh', 'dist_test.sh', 'torchrun.sh', 'slurm_train.sh']
TORCHRUN_ENV = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def tiny_classifier_config(tmp: Path, photos: Path) -> Path:
    """A 1/8-width ResNet-18 classifier on the demo photographs: 1 epoch, 4 iterations on
    2 processes. The launch is under test here, not the model."""
    pipeline = [dict(type='LoadImageFromFile'), dict(type='RandomFlip', prob=0.5),
                dict(type='PackInputs')]
    cfg = Config(dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['qbheat_mm'], allow_failed_imports=False),
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(num_classes=8, mean=[127.5] * 3, std=[127.5] * 3),
            backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                          out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=8, in_channels=64,
                      loss=dict(type='CrossEntropyLoss'))),
        train_dataloader=dict(
            batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(type='DemoPhotoDataset', data_root=str(photos), split='train',
                         pipeline=pipeline, **PHOTOS)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='nccl')),
        randomness=dict(seed=0)))
    return write_config(cfg, tmp / 'tiny_classifier.py')


def test_two_nodes_on_one_machine(tmp_path, demo_photos):
    """NNODES=2 with one process each, as on two machines: node 0 hosts the rendezvous
    at MASTER_ADDR:PORT and node 1 joins it."""
    config = tiny_classifier_config(tmp_path, demo_photos)
    work = tmp_path / 'work'
    port = str(free_port())
    nodes = []
    for node_rank in (0, 1):
        env = dist_env(NNODES='2', NODE_RANK=str(node_rank), MASTER_ADDR='127.0.0.1',
                       PORT=port)
        nodes.append(subprocess.Popen(
            ['bash', str(TOOLS / 'dist_train.sh'), str(config), '1', '--work-dir',
             str(work)], cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    logs = [node.communicate(timeout=LAUNCH_TIMEOUT)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    states = rank_states(work)
    assert [(s['world_size'], s['backend'], s['iter']) for s in states] == [(2, 'gloo', 4)] * 2
    assert_ranks_identical(states, states[0]['params'])
    assert "instead of 'nccl'" in logs[0]
    assert 'Epoch(train) [1][4/4]' in logs[0]


def test_scripts_parse():
    for name in SCRIPTS:
        proc = subprocess.run(['bash', '-n', str(TOOLS / name)], capture_output=True,
                              text=True)
        assert proc.returncode == 0, f'{name}: {proc.stderr}'


@pytest.mark.parametrize('script,args', [('dist_train.sh', ['cfg.py']),
                                         ('dist_test.sh', ['cfg.py', 'ckpt.pth']),
                                         ('slurm_train.sh', ['partition', 'job', 'cfg.py'])])
def test_scripts_print_usage_without_enough_arguments(script, args):
    proc = run(['bash', TOOLS / script, *args], check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith('usage: ') and script in proc.stderr


@pytest.mark.parametrize('env,message', [
    (dict(NNODES='2', NODE_RANK='2'), 'need GPUS >= 1, NNODES >= 1 and 0 <= NODE_RANK < '
     'NNODES (got GPUS=2 NNODES=2 NODE_RANK=2)'),
    (dict(PORT='http'), "PORT must be a non-negative integer, got 'http'"),
])
def test_torchrun_rejects_bad_node_settings(env, message):
    proc = run(['bash', TOOLS / 'dist_train.sh', 'cfg.py', '2'], env=dist_env(**env),
               check=False)
    assert proc.returncode == 2 and message in proc.stderr


def test_port_in_use_stops_with_the_fix(tmp_path):
    with socket.socket() as taken:
        taken.bind(('', 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run(['bash', TOOLS / 'dist_train.sh', tmp_path / 'cfg.py', '2'],
                   env=dist_env(PORT=str(port)), check=False, timeout=60)
    assert proc.returncode == 1
    assert f'tools/torchrun.sh: port {port} is already in use' in proc.stderr
    assert 'Pick a free port with PORT=<port>, e.g. PORT=' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_launcher_pytorch_without_torchrun_environment_names_the_fix(tmp_path, demo_photos):
    """As a user would type it: python tools/train.py CONFIG --launcher pytorch."""
    config = tiny_classifier_config(tmp_path, demo_photos)
    env = dist_env()
    proc = run([sys.executable, TOOLS / 'train.py', config, '--launcher', 'pytorch',
                '--work-dir', tmp_path / 'work'], env=env, check=False, timeout=300)
    assert proc.returncode == 1
    assert ('LauncherEnvError: --launcher pytorch needs the environment its launcher sets '
            'for every process, but RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not '
            'set. To train with several processes, start the processes with torchrun, '
            'e.g. tools/dist_train.sh CONFIG GPUS') in output(proc)
    assert 'for a single process, drop --launcher.' in proc.stderr
    assert not (tmp_path / 'work').exists()  # stopped before the Runner existed


@pytest.mark.parametrize('launcher,present,missing', [
    ('pytorch', dict(RANK='0', WORLD_SIZE='2'), 'MASTER_ADDR, MASTER_PORT are not set'),
    ('slurm', {}, 'SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST are not set'),
])
def test_test_tool_checks_the_launcher_environment(monkeypatch, tmp_path, launcher,
                                                   present, missing):
    for key in TORCHRUN_ENV + ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        monkeypatch.delenv(key, raising=False)
    for key, value in present.items():
        monkeypatch.setenv(key, value)
    checkpoint = tmp_path / 'ckpt.pth'
    checkpoint.write_bytes(b'')
    config = REPO / 'configs' / 'mobileformer' / 'mobileformer-294m_8xb128_in1k.py'
    with pytest.raises(LauncherEnvError, match=missing):
        load_tool('test.py').main([str(config), str(checkpoint), '--launcher', launcher])


def fake_srun(tmp_path: Path) -> tuple[Path, Path]:
    """A ``srun`` that records its arguments and the variables slurm_train.sh exports."""
    bin_dir, log = tmp_path / 'bin', tmp_path / 'srun.log'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text('#!/usr/bin/env bash\n'
                    f'printf "%s\\n" "$@" > {log}\n'
                    f'echo "MASTER_PORT=$MASTER_PORT" >> {log}\n'
                    f'echo "PYTHONPATH=$PYTHONPATH" >> {log}\n')
    srun.chmod(0o755)
    return bin_dir, log


def test_slurm_train_builds_the_srun_command(tmp_path):
    bin_dir, log = fake_srun(tmp_path)
    config = REPO / 'configs' / 'qbheat_mobileformer_in1k.py'
    env = dist_env(GPUS='2', PORT='29611', SRUN_ARGS='--qos=low --time=1:00:00')
    env['PATH'] = f'{bin_dir}:{env["PATH"]}'
    run(['bash', TOOLS / 'slurm_train.sh', 'gpu', 'qbheat', config, 'work_dirs/x',
         '--cfg-options', 'train_cfg.max_epochs=1'], env=env)
    lines = log.read_text().splitlines()
    assert lines[:9] == ['-p', 'gpu', '--job-name=qbheat', '--gres=gpu:2', '--ntasks=2',
                         '--ntasks-per-node=2',  # GPUS_PER_NODE 8 capped at GPUS
                         '--cpus-per-task=5', '--kill-on-bad-exit=1', '--qos=low']
    assert lines[9:] == [
        '--time=1:00:00', 'python', '-u', str(TOOLS / 'train.py'), str(config),
        '--work-dir=work_dirs/x', '--launcher', 'slurm', '--cfg-options',
        'train_cfg.max_epochs=1', 'MASTER_PORT=29611',
        f'PYTHONPATH={TOOLS / ".."}:{env["PYTHONPATH"]}']


@pytest.mark.parametrize('env,config,message', [
    (dict(GPUS='0'), 'configs/qbheat_mobileformer_in1k.py',
     "GPUS must be a positive integer, got '0'"),
    (dict(CPUS_PER_TASK='five'), 'configs/qbheat_mobileformer_in1k.py',
     "CPUS_PER_TASK must be a positive integer, got 'five'"),
    ({}, 'configs/missing.py', 'config file not found: configs/missing.py'),
])
def test_slurm_train_rejects_bad_arguments(tmp_path, env, config, message):
    bin_dir, log = fake_srun(tmp_path)
    env = dist_env(**env)
    env['PATH'] = f'{bin_dir}:{env["PATH"]}'
    proc = run(['bash', TOOLS / 'slurm_train.sh', 'gpu', 'job', config, 'w'], env=env,
               check=False)
    assert proc.returncode == 2 and message in proc.stderr
    assert not log.exists()  # srun never started
