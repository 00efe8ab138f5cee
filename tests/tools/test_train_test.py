"""tools/train.py and tools/test.py on a tiny classifier: checkpoints, resume, load_from,
Pretrained init with a prefix, and the safe checkpoint loading they all rely on."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
train_tool, test_tool = load_tool('train.py'), load_tool('test.py')

TINY_BACKBONE = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                     out_indices=(3, ))


def tiny_config(data_root: Path, max_iters: int) -> dict:
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    loader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                  dataset=dict(type='CustomDataset', data_root=str(data_root), pipeline=pipeline))
    return dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['qbheat_mm'], allow_failed_imports=False),
        runner_type='AtomicCheckpointRunner',  # as the project's configs
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(num_classes=2, mean=[127.5] * 3, std=[127.5] * 3),
            backbone=TINY_BACKBONE,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=2, in_channels=64,
                      loss=dict(type='CrossEntropyLoss'))),
        train_dataloader=loader,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        test_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        test_cfg=dict(),
        test_evaluator=dict(type='Accuracy', topk=(1, )),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        log_level='WARNING',
        randomness=dict(seed=0),
    )


def write_config(tmp_path: Path, image_folder: Path, max_iters: int) -> str:
    path = tmp_path / f'tiny_{max_iters}.py'
    Config(tiny_config(image_folder, max_iters)).dump(path)
    return str(path)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, make_image_folder):
    """A tiny classifier trained once for 4 iterations; returns (work_dir, config path).
    Tests that train further write to their own work dirs, never into this one."""
    root = tmp_path_factory.mktemp('trained')
    work_dir = root / 'work'
    cfg = write_config(root, make_image_folder(root / 'images'), max_iters=4)
    train_tool.main([cfg, '--work-dir', str(work_dir)])
    return work_dir, cfg


@pytest.mark.slow
def test_train_saves_checkpoints_with_training_state(trained):
    work_dir, _ = trained
    assert sorted(p.name for p in work_dir.glob('iter_*.pth')) == ['iter_2.pth', 'iter_4.pth']
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    ckpt = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 4
    assert {'state_dict', 'optimizer', 'message_hub'} <= set(ckpt)
    assert ckpt['optimizer']['state'], 'AdamW moments must be saved for resuming'


@pytest.mark.slow
def test_full_checkpoints_load_safely_through_the_compat_patch(trained):
    """Under torch >= 2.6 plain ``torch.load`` refuses mmengine checkpoints; our patch loads
    them with ``weights_only=True`` and an allow-list, so resume / load_from / Pretrained
    work without running code from the file (tests/compat/test_compat_checkpoint.py)."""
    from qbheat_mm import compat
    assert compat.CHECKPOINT_PATCH_NEEDED
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(trained[0] / 'iter_4.pth', map_location='cpu')
    from mmengine.runner.checkpoint import CheckpointLoader
    assert CheckpointLoader._get_checkpoint_loader('/some/file.pth') is compat.load_from_local
    assert compat._unsafe_globals(str(trained[0] / 'iter_4.pth')) == []
    assert compat.safe_torch_load(str(trained[0] / 'iter_4.pth'))['meta']['iter'] == 4


@pytest.mark.slow
def test_resume_auto_continues_from_saved_iteration(trained, tmp_path, image_folder):
    work_dir = tmp_path / 'resumed'
    shutil.copytree(trained[0], work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_4.pth'))
    saved = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=False)
    cfg6 = write_config(tmp_path, image_folder, max_iters=6)
    runner = train_tool.build_runner(
        train_tool.parse_args([cfg6, '--work-dir', str(work_dir), '--resume']))
    runner.load_or_resume()
    assert runner.iter == 4
    state = runner.optim_wrapper.optimizer.state_dict()['state']
    saved_state = saved['optimizer']['state']
    assert state.keys() == saved_state.keys()
    assert torch.equal(state[0]['exp_avg'], saved_state[0]['exp_avg'])
    runner.train()
    assert runner.iter == 6
    assert (work_dir / 'iter_6.pth').is_file()
    assert torch.load(work_dir / 'iter_6.pth', map_location='cpu',
                      weights_only=False)['meta']['iter'] == 6


def test_train_tool_reseeds_every_epoch(tmp_path, image_folder):
    from qbheat_mm.engine.hooks import EpochSeedHook
    cfg = write_config(tmp_path, image_folder, max_iters=2)
    runner = train_tool.build_runner(train_tool.parse_args([cfg, '--work-dir', str(tmp_path)]))
    assert sum(isinstance(hook, EpochSeedHook) for hook in runner.hooks) == 1


@pytest.mark.slow
def test_resume_from_explicit_path(trained, tmp_path, image_folder):
    work_dir, _ = trained
    cfg6 = write_config(tmp_path, image_folder, max_iters=6)
    runner = train_tool.build_runner(train_tool.parse_args(
        [cfg6, '--work-dir', str(tmp_path / 'other'), '--resume', str(work_dir / 'iter_2.pth')]))
    runner.load_or_resume()
    assert runner.iter == 2


@pytest.mark.slow
def test_test_tool_loads_checkpoint_and_evaluates(trained, tmp_path):
    work_dir, cfg = trained
    ckpt_path = work_dir / 'iter_4.pth'
    runner = test_tool.build_runner(test_tool.parse_args(
        [cfg, str(ckpt_path), '--work-dir', str(tmp_path / 'test'),
         '--out', str(tmp_path / 'preds.pkl')]))
    metrics = runner.test()
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0
    assert (tmp_path / 'preds.pkl').is_file()
    saved = torch.load(ckpt_path, map_location='cpu', weights_only=False)['state_dict']
    model_state = runner.model.state_dict()
    assert all(torch.equal(model_state[k], v) for k, v in saved.items())


@pytest.mark.slow
def test_test_tool_rejects_config_without_test_loop(trained, tmp_path, image_folder):
    work_dir, _ = trained
    cfg = tiny_config(image_folder, 4)
    for key in ('test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg.pop(key)
    path = tmp_path / 'no_test.py'
    Config(cfg).dump(path)
    with pytest.raises(ValueError, match='has no test loop'):
        test_tool.build_runner(test_tool.parse_args([str(path), str(work_dir / 'iter_4.pth')]))


def _count_equal(module: torch.nn.Module, reference: dict) -> int:
    return sum(1 for k, v in module.state_dict().items()
               if k in reference and torch.equal(v, reference[k]))


@pytest.mark.slow
def test_pretrained_init_with_prefix_loads_every_backbone_key(trained):
    work_dir, _ = trained
    ckpt = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=False)
    expected = {k[len('backbone.'):]: v for k, v in ckpt['state_dict'].items()
                if k.startswith('backbone.')}
    backbone = MODELS.build(dict(TINY_BACKBONE, init_cfg=dict(
        type='Pretrained', checkpoint=str(work_dir / 'iter_4.pth'), prefix='backbone.')))
    assert _count_equal(backbone, expected) < len(expected)  # random before init_weights
    backbone.init_weights()
    assert len(expected) == len(backbone.state_dict()) == _count_equal(backbone, expected)


@pytest.mark.slow
def test_pretrained_init_into_another_model_silently_loads_nothing(trained):
    """Documents the upstream pitfall StrictPretrained (issue 5) guards against: the prefix
    matches, no key fits, mmengine logs a warning and leaves the backbone random."""
    work_dir, _ = trained
    backbone = MODELS.build(dict(type='MobileNetV2', widen_factor=0.25, init_cfg=dict(
        type='Pretrained', checkpoint=str(work_dir / 'iter_4.pth'), prefix='backbone.')))
    backbone.init_weights()  # no error, only a log line
    ckpt = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=False)
    saved = [v for k, v in ckpt['state_dict'].items()
             if k.startswith('backbone.') and v.dtype.is_floating_point]
    assert not {k[len('backbone.'):] for k in ckpt['state_dict']} & set(backbone.state_dict())
    from_ckpt = [name for name, p in backbone.named_parameters()
                 if any(p.shape == v.shape and torch.equal(p, v) for v in saved)]
    assert from_ckpt == [], 'no weight came from the checkpoint: the backbone is random'


@pytest.mark.slow
def test_channels_last_trains_like_the_plain_layout(tmp_path, image_folder):
    """--channels-last changes the weights' memory layout, not what is computed: two
    iterations give the plain run's weights within float rounding. (SGD: AdamW divides
    every gradient by its own scale, which turns rounding in near-zero gradients into
    whole-lr steps of either sign.)"""
    cfg = write_config(tmp_path, image_folder, max_iters=2)
    weights = {}
    for flag in ([], ['--channels-last']):
        work_dir = tmp_path / ('cl' if flag else 'plain')
        runner = train_tool.build_runner(train_tool.parse_args(
            [cfg, '--work-dir', str(work_dir), *flag,
             '--cfg-options', 'optim_wrapper.optimizer.type=SGD']))
        conv = runner.model.backbone.conv1.weight
        assert conv.is_contiguous(memory_format=torch.channels_last) == bool(flag)
        assert conv.is_contiguous() != bool(flag)
        runner.train()  # initialises the weights: the same ones in either layout
        assert runner.model.backbone.conv1.weight.is_contiguous(
            memory_format=torch.channels_last) == bool(flag)
        weights[bool(flag)] = {k: v.contiguous() for k, v in runner.model.state_dict().items()}
    moved = [k for k, v in weights[False].items()
             if v.is_floating_point() and not torch.allclose(v, weights[True][k], atol=1e-6)]
    assert moved == []
    assert type(runner).__name__ == 'ChannelsLastAtomicCheckpointRunner'


def test_configured_runner_type_is_kept_with_or_without_channels_last(tmp_path, image_folder):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    @RUNNERS.register_module(force=True)
    class TinyTestRunner(Runner):
        pass

    cfg = Config.fromfile(write_config(tmp_path, image_folder, max_iters=1))
    cfg.runner_type = 'TinyTestRunner'
    cfg.dump(tmp_path / 'typed.py')
    for flag in ([], ['--channels-last']):
        runner = train_tool.build_runner(train_tool.parse_args(
            [str(tmp_path / 'typed.py'), '--work-dir', str(tmp_path / 'w'), *flag]))
        assert isinstance(runner, TinyTestRunner)
    cfg.runner_type = 'NoSuchRunner'
    cfg.dump(tmp_path / 'bad.py')
    for flag in ([], ['--channels-last']):
        with pytest.raises(KeyError, match="runner_type='NoSuchRunner' is not a registered"):
            train_tool.build_runner(train_tool.parse_args(
                [str(tmp_path / 'bad.py'), '--work-dir', str(tmp_path / 'b'), *flag]))


def test_amp_on_cpu_fails_with_clear_message(tmp_path, image_folder):
    if torch.cuda.is_available():
        pytest.skip('CUDA present: --amp is valid here')
    cfg = write_config(tmp_path, image_folder, max_iters=1)
    with pytest.raises(RuntimeError, match='--amp needs a CUDA GPU'):
        train_tool.build_runner(train_tool.parse_args([cfg, '--amp']))


def test_missing_config_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match='config file not found: nope.py'):
        train_tool.build_runner(train_tool.parse_args(['nope.py']))


# ---- atomic checkpoint writes (qbheat_mm/engine/runner.py) ----------------------------

KILL_DURING_SAVE = '''
import os, runpy, signal, sys
from mmengine.fileio import LocalBackend
real_put, calls = LocalBackend.put, []


def dying_put(backend, obj, filepath):
    """The second checkpoint: half of its bytes reach the disk, then SIGKILL."""
    calls.append(filepath)
    if len(calls) < 2:
        return real_put(backend, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
        f.flush()
        os.fsync(f.fileno())
    os.kill(os.getpid(), signal.SIGKILL)


LocalBackend.put = dying_put
sys.argv = ['train.py'] + sys.argv[1:]
runpy.run_path(sys.argv.pop(1), run_name='__main__')
'''


@pytest.mark.slow
def test_kill_while_saving_keeps_the_last_complete_checkpoint(tmp_path, image_folder):
    """The worst moment: killed while writing iter_4 with max_keep_ckpts=1 (mmengine
    deletes iter_2 before saving). iter_2 survives, last_checkpoint still names it, and
    --resume continues from it to the end."""
    import subprocess
    import sys
    from qbheat_mm.compat import safe_torch_load
    from qbheat_mm.engine.runner import is_complete_checkpoint

    cfg = tiny_config(image_folder, 4)
    cfg['default_hooks']['checkpoint']['max_keep_ckpts'] = 1
    config = tmp_path / 'keep1.py'
    Config(cfg).dump(config)
    work_dir = tmp_path / 'work'
    script = tmp_path / 'kill_during_save.py'
    script.write_text(KILL_DURING_SAVE)
    proc = subprocess.run([sys.executable, str(script), str(REPO / 'tools' / 'train.py'),
                           str(config), '--work-dir', str(work_dir)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]

    assert sorted(p.name for p in work_dir.iterdir() if 'iter_' in p.name) == [
        'iter_2.pth', 'iter_4.pth.partial']
    assert is_complete_checkpoint(work_dir / 'iter_2.pth')
    assert not is_complete_checkpoint(work_dir / 'iter_4.pth.partial')
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(work_dir / 'iter_2.pth')

    cfg6 = write_config(tmp_path, image_folder, max_iters=6)
    runner = train_tool.build_runner(train_tool.parse_args(
        [cfg6, '--work-dir', str(work_dir), '--resume']))
    runner.load_or_resume()
    assert runner.iter == 2
    runner.train()
    assert runner.iter == 6
    assert safe_torch_load(str(work_dir / 'iter_6.pth'))['meta']['iter'] == 6


@pytest.mark.slow
def test_resume_skips_a_truncated_last_checkpoint(trained, tmp_path, image_folder):
    """A truncated file named by last_checkpoint (as unpatched mmengine leaves after a kill)
    is skipped for the newest complete checkpoint."""
    import os
    from qbheat_mm.engine.runner import find_latest_complete_checkpoint

    work_dir = tmp_path / 'truncated'
    shutil.copytree(trained[0], work_dir)
    newest = work_dir / 'iter_4.pth'
    newest.write_bytes(newest.read_bytes()[:1000])
    os.utime(work_dir / 'iter_2.pth', (1, 1))  # older than the truncated file
    (work_dir / 'last_checkpoint').write_text(str(newest))
    assert find_latest_complete_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_2.pth')
    cfg6 = write_config(tmp_path, image_folder, max_iters=6)
    runner = train_tool.build_runner(train_tool.parse_args(
        [cfg6, '--work-dir', str(work_dir), '--resume']))
    runner.load_or_resume()
    assert runner.iter == 2


def test_channels_last_runner_needs_a_runner_class():
    from qbheat_mm.engine.channels_last import channels_last_runner
    with pytest.raises(TypeError, match="needs an mmengine Runner class, got <class 'dict'>"):
        channels_last_runner(dict)


@pytest.mark.slow  # a tools/train.py run
def test_an_empty_last_checkpoint_resumes_and_keeps_the_good_checkpoints(trained, tmp_path,
                                                                         image_folder):
    """The kill that empties last_checkpoint: --resume continues from the newest complete
    checkpoint and max_keep_ckpts deletes nothing of what came before (MMEngine would
    start from scratch and prune both)."""
    work_dir = tmp_path / 'empty_pointer'
    shutil.copytree(trained[0], work_dir)
    (work_dir / 'last_checkpoint').write_text('')
    cfg6 = write_config(tmp_path, image_folder, max_iters=6)
    train_tool.main([cfg6, '--work-dir', str(work_dir), '--resume', '--cfg-options',
                     'default_hooks.checkpoint.max_keep_ckpts=2'])
    # nothing of the earlier run was deleted (its checkpoints are not in the resumed
    # hook's keep list), and the run continued to iteration 6 from iter_4
    assert sorted(p.name for p in work_dir.glob('iter_*.pth')) == [
        'iter_2.pth', 'iter_4.pth', 'iter_6.pth']
    log = '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))
    assert 'last_checkpoint is empty' in log and 'resuming from the newest complete' in log
    assert 'iter_4.pth' in log.split('resuming from the newest complete')[1].splitlines()[0]
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'iter_6.pth')


@pytest.fixture(scope='module')
def wrong_checkpoints(trained, tmp_path_factory):
    """Three checkpoints that do not fit the trained classifier: its backbone extracted,
    a torchvision ResNet-18, and the same classifier at another width."""
    import torchvision

    from qbheat_mm.utils.checkpoint import save_backbone_state_dict

    root = tmp_path_factory.mktemp('wrong')
    work_dir, _ = trained
    save_backbone_state_dict(str(work_dir / 'iter_4.pth'), str(root / 'backbone.pth'))
    torch.save(torchvision.models.resnet18().state_dict(), root / 'torchvision_resnet18.pth')
    state = torch.load(work_dir / 'iter_4.pth', weights_only=False)['state_dict']
    wider = {k: (torch.cat([v, v]) if k.startswith('head.fc') and v.ndim else v)
             for k, v in state.items()}  # a head for four classes
    torch.save(dict(state_dict=wider), root / 'four_classes.pth')
    return root


@pytest.mark.slow
@pytest.mark.parametrize('name, match', [
    ('backbone.pth', r'holds a backbone only \(an extracted backbone\).*init_cfg'),
    ('torchvision_resnet18.pth', r'missing in checkpoint .*unexpected in checkpoint .*fc\.'),
    ('four_classes.pth', r'shape mismatch \(2\): head\.fc\.weight: \(4, 64\) vs \(2, 64\).*'
                         r'another architecture or width'),
])
def test_the_test_tool_refuses_a_checkpoint_that_does_not_fit(trained, wrong_checkpoints, name,
                                                              match):
    from qbheat_mm.utils.checkpoint import CheckpointMismatchError
    _, cfg = trained
    with pytest.raises(CheckpointMismatchError, match=r'(?s)' + match + r'.*--load-non-strict'):
        test_tool.main([cfg, str(wrong_checkpoints / name), '--work-dir',
                        str(wrong_checkpoints / f'test_{name}')])


@pytest.mark.slow
def test_loading_only_what_fits_is_an_explicit_flag(trained, wrong_checkpoints):
    _, cfg = trained
    work_dir = wrong_checkpoints / 'non_strict'
    metrics = test_tool.main([cfg, str(wrong_checkpoints / 'backbone.pth'), '--work-dir',
                              str(work_dir), '--load-non-strict'])
    assert 'accuracy/top1' in metrics
    log = '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))
    assert 'load_non_strict=True' in log and 'keep their initial values' in log
