"""AtomicCheckpointRunner (qbheat_mm/engine/runner.py): checkpoints written atomically, a
``max_keep_ckpts`` that deletes only after the new checkpoint is complete, a resume that
skips truncated files; and why it exists: the pinned MMEngine does none of this. The
end-to-end proof (a run killed while saving, then resumed) is in
tests/tools/test_train_test.py."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from unittest.mock import MagicMock, patch

import pytest
import torch
from torch.utils.data import DataLoader
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.model import BaseModel
from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import Runner

from qbheat_mm.compat import safe_torch_load
from qbheat_mm.engine.runner import (ATOMIC_SAVE_NEEDED, PARTIAL_SUFFIX,
                                     AtomicCheckpointHook, AtomicCheckpointRunner,
                                     ResumeError, find_latest_complete_checkpoint,
                                     is_complete_checkpoint)


class TinyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs=None, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=out.square().mean()) if mode == 'loss' else out


def tiny_runner(work_dir: Path, runner_cls=AtomicCheckpointRunner, max_iters: int = 4,
                **hooks) -> Runner:
    loader = DataLoader([dict(inputs=torch.ones(2))] * 4, batch_size=2)
    return runner_cls(model=TinyModel(), work_dir=str(work_dir), default_hooks=hooks or None,
                      train_dataloader=loader, train_cfg=dict(by_epoch=False, max_iters=max_iters),
                      optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                      default_scope='mmengine', log_level='WARNING',
                      experiment_name=uuid.uuid4().hex)


def save(runner: Runner, filename: str, **kwargs) -> None:
    runner.save_checkpoint(runner.work_dir, filename, save_optimizer=False,
                           save_param_scheduler=False, **kwargs)


def test_registered_for_configs():
    assert RUNNERS.get('AtomicCheckpointRunner') is AtomicCheckpointRunner
    assert HOOKS.get('AtomicCheckpointHook') is AtomicCheckpointHook


def test_checkpoint_is_written_to_a_partial_file_then_renamed(tmp_path, monkeypatch):
    runner = tiny_runner(tmp_path)
    written = []
    real_put = LocalBackend.put

    def spy(backend, obj, filepath):
        written.append(Path(filepath).name)
        return real_put(backend, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', spy)
    save(runner, 'iter_2.pth')
    assert written == ['iter_2.pth' + PARTIAL_SUFFIX]
    assert sorted(p.name for p in tmp_path.glob('iter_*')) == ['iter_2.pth']
    assert is_complete_checkpoint(tmp_path / 'iter_2.pth')
    state = safe_torch_load(str(tmp_path / 'iter_2.pth'))
    assert torch.equal(state['state_dict']['linear.weight'], runner.model.linear.weight)


def test_failed_save_leaves_the_previous_file_untouched(tmp_path, monkeypatch):
    runner = tiny_runner(tmp_path)
    target = tmp_path / 'iter_2.pth'
    save(runner, 'iter_2.pth')
    before = target.read_bytes()

    def disk_full(backend, obj, filepath):
        Path(filepath).write_bytes(obj[:len(obj) // 2])
        raise OSError('disk full')

    monkeypatch.setattr(LocalBackend, 'put', disk_full)
    with pytest.raises(OSError, match='disk full'):
        save(runner, 'iter_2.pth')
    assert target.read_bytes() == before
    assert not (tmp_path / ('iter_2.pth' + PARTIAL_SUFFIX)).exists()
    (tmp_path / 'last_checkpoint').write_text(str(target))
    assert find_latest_complete_checkpoint(str(tmp_path)) == str(target)


def test_remote_backends_keep_mmengines_save(tmp_path):
    """Only local files are written atomically: a local-looking path with a remote backend
    in ``backend_args`` (MMEngine's own CheckpointHook test uses Petrel so) still goes to
    that backend's ``put``, under its own name. Found by tools/dev/host_tests.py when this
    was a global patch: MMEngine 0.10.7's test_checkpoint_hook.py::test_after_val_epoch."""
    runner = tiny_runner(tmp_path / 'work')
    petrel = MagicMock()
    petrel.client.Client = MagicMock(return_value=petrel)
    with patch.dict(sys.modules, {'petrel_client': petrel}), \
            patch('mmengine.fileio.backends.PetrelBackend.put') as put:
        save(runner, 'best_acc_epoch_1.pth', backend_args=dict(backend='petrel'))
    put.assert_called_once()
    assert put.call_args.args[1].endswith('best_acc_epoch_1.pth')
    assert not list((tmp_path / 'work').glob('*.pth*'))


def test_the_plain_checkpoint_hook_is_built_as_the_atomic_one(tmp_path):
    runner = tiny_runner(tmp_path, checkpoint=dict(type='CheckpointHook', interval=3,
                                                   by_epoch=False, max_keep_ckpts=1))
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    assert type(hook) is AtomicCheckpointHook
    assert (hook.interval, hook.by_epoch, hook.max_keep_ckpts) == (3, False, 1)
    default = next(h for h in tiny_runner(tmp_path / 'd').hooks
                   if isinstance(h, CheckpointHook))
    assert type(default) is AtomicCheckpointHook and default.interval == 1


def test_another_checkpoint_hook_class_is_kept(tmp_path):
    @HOOKS.register_module(force=True)
    class MyCheckpointHook(CheckpointHook):
        pass

    runner = tiny_runner(tmp_path, checkpoint=dict(type='MyCheckpointHook', interval=2))
    assert sum(type(h) is MyCheckpointHook for h in runner.hooks) == 1
    assert not any(type(h) is AtomicCheckpointHook for h in runner.hooks)
    plain = tiny_runner(tmp_path / 'plain', runner_cls=Runner)
    assert [type(h) for h in plain.hooks if isinstance(h, CheckpointHook)] == [CheckpointHook]


KEEP1 = dict(type='CheckpointHook', interval=2, by_epoch=False, max_keep_ckpts=1)


def train_with_a_failing_second_save(runner: Runner, monkeypatch) -> list[str]:
    """Train 4 iterations saving every 2; the second save fails (a full disk)."""
    real_put, saves = LocalBackend.put, []

    def second_save_fails(backend, obj, filepath):
        saves.append(Path(filepath).name)
        if len(saves) == 2:
            raise OSError('disk full')
        return real_put(backend, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', second_save_fails)
    with pytest.raises(OSError, match='disk full'):
        runner.train()
    monkeypatch.undo()
    return saves


def test_max_keep_ckpts_deletes_only_after_the_new_checkpoint_is_complete(tmp_path,
                                                                         monkeypatch):
    """MMEngine deletes the oldest checkpoint before it writes the new one; a save that
    fails (a kill, a full disk) then leaves nothing with ``max_keep_ckpts=1``. Here the
    old one survives the failed save, and is deleted once a save succeeds."""
    runner = tiny_runner(tmp_path, checkpoint=KEEP1)
    saves = train_with_a_failing_second_save(runner, monkeypatch)
    assert saves == ['iter_2.pth.partial', 'iter_4.pth.partial']
    assert sorted(p.name for p in tmp_path.glob('iter_*')) == ['iter_2.pth']
    assert is_complete_checkpoint(tmp_path / 'iter_2.pth')

    done = tiny_runner(tmp_path / 'ok', checkpoint=KEEP1)
    done.train()
    assert sorted(p.name for p in (tmp_path / 'ok').glob('iter_*')) == ['iter_4.pth']


def test_the_previous_best_checkpoint_is_deleted_only_after_the_new_one(tmp_path,
                                                                        monkeypatch):
    runner = tiny_runner(tmp_path, checkpoint=dict(
        type='CheckpointHook', interval=100, by_epoch=False, save_best='acc',
        rule='greater', save_optimizer=False, save_param_scheduler=False))
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    hook.before_train(runner)  # the hook is driven directly: no training loop

    def best_at(step: int, acc: float) -> None:
        runner.train_loop._iter = step
        hook._save_best_checkpoint(runner, {'acc': acc})

    def disk_full(backend, obj, filepath):
        raise OSError('disk full')

    best_at(2, 0.5)
    best_at(4, 0.7)  # replaces the previous best once it is written
    assert [p.name for p in tmp_path.glob('best_*')] == ['best_acc_iter_4.pth']
    monkeypatch.setattr(LocalBackend, 'put', disk_full)
    with pytest.raises(OSError, match='disk full'):
        best_at(6, 0.9)
    assert [p.name for p in tmp_path.glob('best_*')] == ['best_acc_iter_4.pth']
    assert is_complete_checkpoint(tmp_path / 'best_acc_iter_4.pth')


def test_a_new_best_after_a_regular_checkpoint_saves_both_and_keeps_one_of_each(tmp_path):
    """The path of every run with ``save_best``: on a new best, MMEngine's
    ``_save_best_checkpoint`` saves the regular checkpoint again from inside itself (to
    store the new best in it), so the deferred removals nest."""
    runner = tiny_runner(tmp_path, checkpoint=dict(
        type='CheckpointHook', interval=2, by_epoch=False, max_keep_ckpts=1,
        save_best='acc', rule='greater', save_optimizer=False, save_param_scheduler=False))
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    hook.before_train(runner)  # the hook is driven directly: no training loop
    for step, acc in ((2, 0.5), (4, 0.7)):
        runner.train_loop._iter = step
        hook._save_checkpoint_with_step(runner, step, {})
        hook._save_best_checkpoint(runner, {'acc': acc})
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == [
        'best_acc_iter_4.pth', 'iter_4.pth']
    assert all(is_complete_checkpoint(p) for p in tmp_path.glob('*.pth'))
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_4.pth')


def test_auto_resume_never_picks_a_best_or_extracted_checkpoint(tmp_path):
    """resume='auto' falls back only to training checkpoints (epoch_N / iter_N), the
    newest complete one, when last_checkpoint does not name a complete file."""
    find = find_latest_complete_checkpoint
    assert find(str(tmp_path)) is None  # nothing at all: a fresh start loses nothing
    for name in ('iter_2.pth', 'iter_10.pth', 'best_accuracy_top1_iter_10.pth',
                 'backbone.pth'):
        torch.save({'meta': {'name': name}}, tmp_path / name)
    os.utime(tmp_path / 'iter_10.pth', (1, 1))  # the newest step, not the newest file
    assert find(str(tmp_path)) == str(tmp_path / 'iter_10.pth')  # no pointer: never fresh

    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find(str(tmp_path)) == str(tmp_path / 'iter_2.pth')

    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_12.pth'))  # missing
    assert find(str(tmp_path)) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'iter_10.pth').write_bytes(b'PK truncated')
    assert find(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_2.pth').unlink()
    with pytest.raises(ResumeError, match=r'no training checkpoint there is complete '
                       r'\(incomplete: .*iter_10\.pth\)'):
        find(str(tmp_path))  # best_* and backbone.pth are never resumed from


@pytest.mark.parametrize('pointer, why', [
    ('', 'last_checkpoint is empty'),
    ('\x00\x9f garbage', 'which does not exist'),
    ('{work}/iter_13.pth', "iter_13.pth', which does not exist"),  # deleted
    ('{work}/iter_14.pth', "iter_14.pth', which is truncated"),
    (None, 'there is no last_checkpoint file'),
])
def test_a_broken_pointer_resumes_from_the_newest_complete_checkpoint(tmp_path, pointer, why,
                                                                      caplog_mmengine):
    for step in (11, 12):
        torch.save({'meta': {'iter': step}}, tmp_path / f'iter_{step}.pth')
    (tmp_path / 'iter_14.pth').write_bytes(b'PK half of a checkpoint')
    if pointer is not None:
        (tmp_path / 'last_checkpoint').write_text(pointer.format(work=tmp_path))
    assert find_latest_complete_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_12.pth')
    warning = [r.getMessage() for r in caplog_mmengine if r.levelname == 'WARNING']
    assert len(warning) == 1 and why in warning[0] and 'iter_12.pth' in warning[0]


def test_resume_without_a_complete_checkpoint_stops_and_deletes_nothing(tmp_path):
    (tmp_path / 'iter_4.pth').write_bytes(b'PK truncated')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    runner = AtomicCheckpointRunner(model=TinyModel(), work_dir=str(tmp_path), resume=True,
                                    default_scope='mmengine', log_level='WARNING',
                                    experiment_name=uuid.uuid4().hex)
    with pytest.raises(ResumeError, match=r"(?s)iter_4.pth', which is truncated.*Nothing was "
                       r'started, so nothing was deleted.*--resume PATH.*start over'):
        runner.load_or_resume()  # MMEngine's Runner would fail reading the truncated file
    assert (tmp_path / 'iter_4.pth').exists()


def test_last_checkpoint_is_written_atomically(tmp_path, monkeypatch):
    """A kill while the hook writes last_checkpoint leaves the previous pointer."""
    runner = tiny_runner(tmp_path, checkpoint=dict(
        type='CheckpointHook', interval=2, by_epoch=False, save_optimizer=False,
        save_param_scheduler=False))
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    hook.before_train(runner)  # the hook is driven directly: no training loop
    hook._save_checkpoint_with_step(runner, 2, {})
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_2.pth')

    import qbheat_mm.engine.runner as runner_module
    real_replace = os.replace

    def killed(src, dst):
        if dst.endswith('last_checkpoint'):
            raise KeyboardInterrupt('killed')
        return real_replace(src, dst)
    monkeypatch.setattr(runner_module.os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        hook._save_checkpoint_with_step(runner, 4, {})
    monkeypatch.undo()
    # the pointer still names the complete iter_2 (iter_4.pth is complete too, but the run
    # died before it could name it); the next save replaces the leftover .partial
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_2.pth')
    hook._save_checkpoint_with_step(runner, 6, {})
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_6.pth')
    assert not list(tmp_path.glob('last_checkpoint.partial'))
    import mmengine.hooks.checkpoint_hook as hook_module
    assert 'open' not in vars(hook_module)  # the shadowing ends with the save


def test_the_pinned_mmengine_still_saves_in_place_and_resumes_blindly(tmp_path, monkeypatch):
    """Why the runner exists. Fails once MMEngine writes checkpoints atomically (here it
    hands the final name to the backend, so a kill mid-write truncates it), deletes after
    saving, or checks what it resumes from: then delete qbheat_mm/engine/runner.py."""
    import mmengine.runner.runner as mmengine_runner
    assert ATOMIC_SAVE_NEEDED
    runner = tiny_runner(tmp_path, runner_cls=Runner)
    written = []
    monkeypatch.setattr(LocalBackend, 'put', lambda b, obj, path: written.append(path))
    save(runner, 'iter_2.pth')
    assert written == [str(tmp_path / 'iter_2.pth')]
    monkeypatch.undo()

    torch.save({'meta': {}}, tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_2.pth').write_bytes((tmp_path / 'iter_2.pth').read_bytes()[:100])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert mmengine_runner.find_latest_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_2.pth')
    with pytest.raises(ResumeError):
        find_latest_complete_checkpoint(str(tmp_path))

    plain = tiny_runner(tmp_path / 'keep1', runner_cls=Runner, checkpoint=KEEP1)
    assert train_with_a_failing_second_save(plain, monkeypatch) == ['iter_2.pth', 'iter_4.pth']
    assert list((tmp_path / 'keep1').glob('iter_*')) == []  # deleted before the failed save


def test_importing_the_plugin_leaves_mmengines_runner_and_hook_alone():
    """The atomic behaviour is the named runner's; MMEngine's own module globals and
    CheckpointHook are MMEngine's after ``import qbheat_mm``."""
    import mmengine.runner.checkpoint as mmengine_checkpoint
    import mmengine.runner.runner as mmengine_runner

    import qbheat_mm  # noqa: F401
    for name in ('save_checkpoint', 'find_latest_checkpoint'):
        assert getattr(mmengine_runner, name) is getattr(mmengine_checkpoint, name)
        assert getattr(mmengine_runner, name).__module__ == 'mmengine.runner.checkpoint'
    save = CheckpointHook._save_checkpoint_with_step
    assert (save.__module__, save.__qualname__) == (
        'mmengine.hooks.checkpoint_hook', 'CheckpointHook._save_checkpoint_with_step')


def test_a_second_training_in_a_work_dir_stops_naming_the_first(tmp_path):
    import json
    import subprocess

    from qbheat_mm.engine.runner import LOCK_NAME, WorkDirBusyError, work_dir_lock
    holder = subprocess.Popen(['sleep', '30'])  # a live process on this host
    try:
        (tmp_path / LOCK_NAME).write_text(json.dumps(dict(
            pid=holder.pid, host=__import__('socket').gethostname(),
            started='2026-12-08T01:00:00', command='tools/train.py cfg.py')))
        runner = tiny_runner(tmp_path)
        with pytest.raises(WorkDirBusyError, match=rf'(?s)in use by another training: PID '
                           rf'{holder.pid} on .*started 2026-12-08T01:00:00 \(tools/train.py '
                           r'cfg.py\).*another --work-dir'):
            runner.train()
        assert not list(tmp_path.glob('iter_*.pth'))
    finally:
        holder.kill()
        holder.wait()
    # the same lock, its process gone (a run killed): taken over, and released at the end
    runner = tiny_runner(tmp_path)
    runner.train()
    assert runner.iter == 4 and not (tmp_path / LOCK_NAME).exists()
    with work_dir_lock(str(tmp_path)):
        assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_full_disk_names_the_path_and_the_bytes(tmp_path, monkeypatch):
    import errno

    runner = tiny_runner(tmp_path)
    save(runner, 'iter_2.pth')

    def full(backend, obj, filepath):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(LocalBackend, 'put', full)
    with pytest.raises(OSError, match=rf'no space left to save {tmp_path}/iter_4.pth: the '
                       r'checkpoint needs at least [\d,]+ bytes \(its tensors\), [\d,]+ bytes '
                       r'are free there') as info:
        save(runner, 'iter_4.pth')
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert is_complete_checkpoint(tmp_path / 'iter_2.pth')
    assert not list(tmp_path.glob('*.partial'))


def test_the_runner_registers_the_epoch_seed_hook_once(tmp_path):
    """So that MMPretrain's and MMDetection's own tools/train.py, which build the Runner
    the configs name, reseed every epoch too."""
    from qbheat_mm.engine.hooks import EpochSeedHook
    runner = tiny_runner(tmp_path)
    assert sum(isinstance(h, EpochSeedHook) for h in runner.hooks) == 1
    plain = tiny_runner(tmp_path / 'plain', runner_cls=Runner)
    assert not any(isinstance(h, EpochSeedHook) for h in plain.hooks)


def test_two_runners_in_one_second_log_to_their_own_files(tmp_path):
    """MMEngine names the logger and message hub ``<config>_<timestamp>`` and returns an
    existing instance of that name: a second run of one config within the same second
    would log into the first run's file (how a resume test once lost its warning)."""
    from mmengine.logging import MMLogger, print_log

    def build(work_dir):
        loader = DataLoader([dict(inputs=torch.ones(2))] * 4, batch_size=2)
        return AtomicCheckpointRunner(
            model=TinyModel(), work_dir=str(work_dir), train_dataloader=loader,
            train_cfg=dict(by_epoch=False, max_iters=1),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            default_scope='mmengine', experiment_name='same_config')

    with patch('time.time', return_value=1.8e9):  # both built "in the same second"
        first, second = build(tmp_path / 'a'), build(tmp_path / 'b')
    assert first.timestamp != second.timestamp
    assert first.logger is not second.logger and first.message_hub is not second.message_hub
    print_log('written by the second run', logger=second.logger, level=30)
    log_a, log_b = (next((tmp_path / d).glob('*/*.log')).read_text() for d in 'ab')
    assert 'written by the second run' in log_b and 'written by the second run' not in log_a
    assert MMLogger.get_current_instance() is second.logger
