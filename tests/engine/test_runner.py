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
                                     find_latest_complete_checkpoint,
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
    """resume='auto' falls back only to training checkpoints (epoch_N / iter_N), and only
    when last_checkpoint names a missing or truncated file; without last_checkpoint it
    starts fresh, as mmengine does, whatever other .pth files the work dir holds."""
    find = find_latest_complete_checkpoint
    for name in ('iter_2.pth', 'iter_10.pth', 'best_accuracy_top1_iter_10.pth',
                 'backbone.pth'):
        torch.save({'meta': {'name': name}}, tmp_path / name)
    os.utime(tmp_path / 'iter_10.pth', (1, 1))  # the newest step, not the newest file
    assert find(str(tmp_path)) is None  # no last_checkpoint: a fresh start

    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find(str(tmp_path)) == str(tmp_path / 'iter_2.pth')

    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_12.pth'))  # missing
    assert find(str(tmp_path)) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'iter_10.pth').write_bytes(b'PK truncated')
    assert find(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_2.pth').unlink()
    assert find(str(tmp_path)) is None  # best_* and backbone.pth are never resumed from


def test_resume_without_a_complete_checkpoint_starts_from_scratch(tmp_path):
    (tmp_path / 'iter_4.pth').write_bytes(b'PK truncated')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    runner = AtomicCheckpointRunner(model=TinyModel(), work_dir=str(tmp_path), resume=True,
                                    default_scope='mmengine', log_level='WARNING',
                                    experiment_name=uuid.uuid4().hex)
    runner.load_or_resume()  # MMEngine's Runner would fail reading the truncated file
    assert not runner._has_loaded and runner.iter == 0


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
    assert find_latest_complete_checkpoint(str(tmp_path)) is None

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
