"""A Runner whose checkpoints survive a kill at any moment, named by the configs.

MMEngine 0.10.7 writes ``iter_N.pth`` in place, so a run killed while saving leaves a
truncated file; ``CheckpointHook`` with ``max_keep_ckpts`` deletes the oldest checkpoint
*before* writing the new one (with ``max_keep_ckpts=1`` a kill then leaves no complete
checkpoint at all); and ``resume='auto'`` trusts ``last_checkpoint`` blindly. Unchanged on
mmengine's main branch as of 2025.

The project's configs select :class:`AtomicCheckpointRunner` with
``runner_type = 'AtomicCheckpointRunner'``, which MMEngine's, MMPretrain's and
MMDetection's ``tools/train.py`` build through ``RUNNERS`` as the project's tools do. A
user's own configs keep MMEngine's Runner unless they name it: nothing here is installed
on import. Remove once the pinned mmengine writes checkpoints atomically and validates
what it resumes from (:data:`ATOMIC_SAVE_NEEDED`; a test fails once it does).
"""
from __future__ import annotations

import contextlib
import logging
import os
import os.path as osp
import re
import zipfile
from pathlib import Path
from typing import Iterator, Optional, Union

import mmengine
from mmengine.dist import master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import Runner
from mmengine.utils import digit_version

__all__ = ['AtomicCheckpointRunner', 'AtomicCheckpointHook', 'ATOMIC_SAVE_NEEDED',
           'PARTIAL_SUFFIX', 'is_complete_checkpoint', 'find_latest_complete_checkpoint']

#: The pinned mmengine saves in place and resumes blindly (see the module docstring).
ATOMIC_SAVE_NEEDED = digit_version(mmengine.__version__) <= digit_version('0.10.7')
#: Suffix of a checkpoint being written; it never matches ``*.pth``.
PARTIAL_SUFFIX = '.partial'
#: What MMEngine's CheckpointHook names a training checkpoint (its default templates): the
#: only files a resume may fall back to. Not ``best_*.pth`` (the best weights, not the
#: latest state) nor an extracted ``backbone.pth`` (no optimizer, no iteration).
RESUMABLE_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


def is_complete_checkpoint(path: Union[str, Path]) -> bool:
    """True for a readable ``torch.save`` zip archive (its directory is written last, so
    a truncated file fails); the tensors are not read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith('/data.pkl') or name == 'data.pkl'
                       for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def find_latest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """What ``resume='auto'`` resumes from: ``last_checkpoint`` if it names a complete
    checkpoint; if it names a missing or truncated one, the complete ``epoch_N.pth`` /
    ``iter_N.pth`` of the largest N (a warning names what was skipped); None when there is
    no ``last_checkpoint`` (as mmengine: a fresh start, whatever other ``.pth`` files the
    work dir holds) or no complete training checkpoint."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = ''
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
    if not named:
        return None
    training = sorted((p for p in Path(work_dir).glob('*.pth') if RESUMABLE_NAME.match(p.name)),
                      key=lambda p: (int(RESUMABLE_NAME.match(p.name).group(1)),
                                     p.stat().st_mtime), reverse=True)
    skipped = []
    for candidate in [named] + [str(p) for p in training]:
        if is_complete_checkpoint(candidate):
            if skipped:
                print_log(f'Resuming from {candidate}: skipped incomplete or missing '
                          f'checkpoints {", ".join(dict.fromkeys(skipped))} (a run killed '
                          'while saving?).', logger='current', level=logging.WARNING)
            return candidate
        skipped.append(candidate)
    print_log(f'Found no complete checkpoint to resume from in {work_dir} (skipped '
              f'{", ".join(dict.fromkeys(skipped))}); starting from scratch',
              logger='current', level=logging.WARNING)
    return None


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` that deletes the checkpoints it replaces (the oldest
    one ``max_keep_ckpts`` drops, the previous ``best_*.pth``) only once the new one is
    complete; MMEngine deletes them first. A save that fails deletes nothing. The ids it
    keeps in the message hub, and everything else, are MMEngine's."""

    #: The removals held back during the outermost save; None outside a save.
    _pending_removals: Optional[list] = None

    @contextlib.contextmanager
    def _removals_after_saving(self) -> Iterator[None]:
        if self._pending_removals is not None:
            # Nested: MMEngine's _save_best_checkpoint saves the regular checkpoint again
            # from inside itself; the outermost save removes what both replaced.
            yield
            return
        backend, pending = self.file_backend, []
        backend.remove = pending.append  # instance attribute shadows the method
        self._pending_removals = pending
        try:
            yield
        finally:
            del backend.remove
            self._pending_removals = None
        current = {getattr(self, 'last_ckpt', None), getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in pending:
            if path not in current:  # never the file just written under the same name
                backend.remove(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        with self._removals_after_saving():
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._removals_after_saving():
            super()._save_best_checkpoint(runner, metrics)


def _is_plain_checkpoint_hook(hook: Union[dict, Hook, None]) -> bool:
    if not isinstance(hook, dict):
        return False
    kind = hook.get('type')
    return kind is CheckpointHook or (isinstance(kind, str)
                                      and kind.split('.')[-1] == 'CheckpointHook')


@RUNNERS.register_module()
class AtomicCheckpointRunner(Runner):
    """MMEngine's Runner with checkpoints that survive a kill at any moment.

    - **Save**: a local checkpoint is written to ``<name>.partial``, flushed to disk and
      renamed onto ``<name>`` (``os.replace`` is atomic), so ``<name>`` is the previous
      file or the complete new one. Remote URIs and remote backends in ``backend_args``
      (Petrel, ...) keep MMEngine's own save.
    - **Keep**: the default ``checkpoint`` hook, when it is MMEngine's plain
      ``CheckpointHook``, is built as :class:`AtomicCheckpointHook` (same arguments), so
      ``max_keep_ckpts`` never leaves the work dir without a complete checkpoint. Any
      other hook class a config names is kept as it is.
    - **Resume** (``resume=True`` without ``load_from``): from
      :func:`find_latest_complete_checkpoint`, never from a truncated file, a
      ``best_*.pth`` or an extracted backbone.
    """

    def register_default_hooks(self, hooks: Optional[dict] = None) -> None:
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))
        if _is_plain_checkpoint_hook(checkpoint):
            hooks['checkpoint'] = dict(checkpoint, type=AtomicCheckpointHook)
        super().register_default_hooks(hooks)

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, file_client_args=None,
                        save_optimizer: bool = True, save_param_scheduler: bool = True,
                        meta: Optional[dict] = None, by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        arguments = dict(file_client_args=file_client_args, save_optimizer=save_optimizer,
                         save_param_scheduler=save_param_scheduler, meta=meta,
                         by_epoch=by_epoch, backend_args=backend_args)
        target = osp.join(str(out_dir), filename)
        if file_client_args is not None or not isinstance(
                get_file_backend(target, backend_args=backend_args), LocalBackend):
            return super().save_checkpoint(out_dir, filename, **arguments)
        partial = target + PARTIAL_SUFFIX
        try:
            super().save_checkpoint(out_dir, filename + PARTIAL_SUFFIX, **arguments)
            descriptor = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(partial, target)
        except BaseException:
            if osp.exists(partial):
                os.remove(partial)
            raise
        return None

    def load_or_resume(self) -> None:
        if self._has_loaded or not self._resume or self._load_from is not None:
            return super().load_or_resume()
        resume_from = find_latest_complete_checkpoint(self.work_dir)
        if resume_from is None:
            self.logger.info(f'resume=True: no checkpoint to resume from in {self.work_dir}; '
                             'starting from scratch.')
            return None
        self.logger.info(f'Auto resumed from the latest checkpoint {resume_from}.')
        self.resume(resume_from)
        self._has_loaded = True
        return None
