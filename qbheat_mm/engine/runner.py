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
import errno
import logging
import os
import os.path as osp
import re
import shutil
import time
from pathlib import Path
from typing import Iterator, Optional, Union

import mmengine
from mmengine.dist import is_main_process, master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.hooks import checkpoint_hook as checkpoint_hook_module
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import Runner
from mmengine.utils import digit_version

from qbheat_mm.utils.checkpoint import is_complete_checkpoint, load_checkpoint_strict

from .hooks.epoch_seed_hook import EpochSeedHook

__all__ = ['AtomicCheckpointRunner', 'AtomicCheckpointHook', 'ATOMIC_SAVE_NEEDED',
           'PARTIAL_SUFFIX', 'LOCK_NAME', 'ResumeError', 'WorkDirBusyError', 'work_dir_lock',
           'is_complete_checkpoint',
           'find_latest_complete_checkpoint']

#: The pinned mmengine saves in place and resumes blindly (see the module docstring).
ATOMIC_SAVE_NEEDED = digit_version(mmengine.__version__) <= digit_version('0.10.7')
#: Suffix of a checkpoint being written; it never matches ``*.pth``.
PARTIAL_SUFFIX = '.partial'
#: What MMEngine's CheckpointHook names a training checkpoint (its default templates): the
#: only files a resume may fall back to. Not ``best_*.pth`` (the best weights, not the
#: latest state) nor an extracted ``backbone.pth`` (no optimizer, no iteration).
RESUMABLE_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


class ResumeError(RuntimeError):
    """A resume was asked for where a work dir holds checkpoints, none of them complete."""


def _training_checkpoints(work_dir: str) -> list[Path]:
    """The ``epoch_N.pth`` / ``iter_N.pth`` of ``work_dir``, the largest N first."""
    return sorted((p for p in Path(work_dir).glob('*.pth') if RESUMABLE_NAME.match(p.name)),
                  key=lambda p: (int(RESUMABLE_NAME.match(p.name).group(1)),
                                 p.stat().st_mtime), reverse=True)


def _exists(path: str) -> bool:
    try:
        return osp.exists(path)
    except ValueError:  # garbage with a NUL byte
        return False


def find_latest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """What ``resume='auto'`` resumes from, never losing a complete checkpoint.

    ``last_checkpoint`` when it names a complete checkpoint. When it is missing, empty,
    unreadable or names a missing or truncated file while a complete ``epoch_N.pth`` /
    ``iter_N.pth`` exists: the complete one of the largest N, with a WARNING saying why
    (starting over there would let ``max_keep_ckpts`` delete the good files). None when
    the work dir holds neither a ``last_checkpoint`` nor a training checkpoint (a fresh
    start loses nothing). Otherwise (only truncated ones) :class:`ResumeError`, naming
    them and the ways on. Never a ``best_*.pth`` (the best weights, not the latest state)
    nor an extracted ``backbone.pth``.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer, errors='replace') as f:
            named = f.read().strip()
    if named and is_complete_checkpoint(named):
        return named
    if named is None:
        why = 'there is no last_checkpoint file'
    elif not named:
        why = 'last_checkpoint is empty (a run killed while writing it?)'
    elif not _exists(named):
        why = f'last_checkpoint names {named!r}, which does not exist'
    else:
        why = (f'last_checkpoint names {named!r}, which is truncated (a run killed while '
               'saving?)')
    candidates = _training_checkpoints(work_dir)
    skipped = []
    for candidate in candidates:
        if is_complete_checkpoint(candidate):
            print_log(f'resume: {why}; resuming from the newest complete training checkpoint '
                      f'{candidate}' + (f' (skipped incomplete {", ".join(map(str, skipped))})'
                                        if skipped else '') + '.', logger='current',
                      level=logging.WARNING)
            return str(candidate)
        skipped.append(candidate)
    if named is None and not candidates:
        return None
    found = ', '.join(map(str, skipped)) or 'none'
    raise ResumeError(
        f'cannot resume in {work_dir}: {why}, and no training checkpoint there is complete '
        f'(incomplete: {found}). Nothing was started, so nothing was deleted. To resume from '
        'a checkpoint elsewhere, pass --resume PATH; to start over, delete the incomplete '
        'files and last_checkpoint (or use another --work-dir).')


#: The file a training holds in its work dir while it runs.
LOCK_NAME = '.qbheat_train.lock'


class WorkDirBusyError(RuntimeError):
    """Another training runs in the work dir."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


@contextlib.contextmanager
def work_dir_lock(work_dir: str) -> Iterator[None]:
    """Hold ``WORK_DIR/.qbheat_train.lock`` (this process's PID, host, start time and
    command) while a training runs. Another training's live lock stops this one, naming
    it; a lock whose process is gone (a run killed) is taken over with a warning."""
    import datetime
    import json
    import socket
    import sys

    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    mine = dict(pid=os.getpid(), host=socket.gethostname(), command=' '.join(sys.argv),
                started=datetime.datetime.now().isoformat(timespec='seconds'))
    for _ in range(2):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(path) as f:
                    holder = json.load(f)
            except (OSError, ValueError):
                holder = {}
            same_host = holder.get('host') == mine['host']
            if same_host and holder.get('pid') and not _alive(int(holder['pid'])):
                print_log(f"{path}: the training that held this work dir (PID "
                          f"{holder['pid']}, started {holder.get('started')}) is gone; "
                          'taking its lock over.', logger='current', level=logging.WARNING)
                os.remove(path)
                continue
            raise WorkDirBusyError(
                f"{work_dir} is in use by another training: PID {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')}, started {holder.get('started', '?')} "
                f"({holder.get('command', '?')}). Two trainings in one work dir overwrite "
                "each other's checkpoints and last_checkpoint. Wait for it or stop it, or "
                'give this one another --work-dir; if no such training runs any more '
                f'(another machine), delete {path}.') from None
        with os.fdopen(descriptor, 'w') as f:
            json.dump(mine, f)
        break
    try:
        yield
    finally:
        try:
            with open(path) as f:
                if json.load(f).get('pid') == mine['pid']:
                    os.remove(path)
        except (OSError, ValueError):
            pass


class _AtomicPointer:
    """What MMEngine's ``CheckpointHook`` gets for ``open(WORK_DIR/last_checkpoint, 'w')``
    while :class:`AtomicCheckpointHook` saves: the text goes to a temporary file, flushed
    to disk and renamed onto ``last_checkpoint`` on close, so a kill leaves the previous
    pointer or the new one, never an empty file."""

    def __init__(self, path: str):
        self.path, self.partial = path, path + PARTIAL_SUFFIX
        self.file = open(self.partial, 'w')

    def __enter__(self):
        return self.file

    def __exit__(self, kind, error, trace):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if kind is None:
            os.replace(self.partial, self.path)
        elif osp.exists(self.partial):
            os.remove(self.partial)
        return False


def _pointer_aware_open(file, mode='r', *args, **kwargs):
    if osp.basename(str(file)) == 'last_checkpoint' and mode == 'w':
        return _AtomicPointer(str(file))
    return open(file, mode, *args, **kwargs)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` that deletes the checkpoints it replaces (the oldest
    one ``max_keep_ckpts`` drops, the previous ``best_*.pth``) only once the new one is
    complete (MMEngine deletes them first), and writes ``last_checkpoint`` atomically (a
    kill leaves the old pointer or the new one; MMEngine opens it for writing in place). A
    save that fails deletes nothing. The ids it keeps in the message hub, and everything
    else, are MMEngine's."""

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
        # The hook writes last_checkpoint with the builtin open of its module: during the
        # save, a global of that module shadows it with the atomic write (_AtomicPointer).
        checkpoint_hook_module.open = _pointer_aware_open
        self._pending_removals = pending
        try:
            yield
        finally:
            del backend.remove
            del checkpoint_hook_module.open
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
      ``best_*.pth`` or an extracted backbone, and never a fresh start over complete
      checkpoints (it resumes from the newest, or stops: :class:`ResumeError`).
    - **Reseeded epochs**: :class:`~qbheat_mm.engine.hooks.EpochSeedHook` is registered
      for every run (a resumed run continues as the uninterrupted one did), also when
      MMPretrain's or MMDetection's own ``tools/train.py`` builds the Runner.
    - **One training per work dir**: ``train`` holds ``WORK_DIR/.qbheat_train.lock``;
      a second training there stops, naming the first (:func:`work_dir_lock`).
    - **One name per run in a process**: a second Runner built in the same second (the
      experiment engine's stages, a test after a test) gets the next free second as its
      timestamp. MMEngine names the logger, message hub, visualizer and default scope
      ``<config>_<timestamp>`` and ``get_instance`` returns an existing instance, so the
      second run would write its log into the first run's file and share its message hub.
    - **A full disk** stops with the checkpoint's path, the bytes it needs and the bytes
      free, the earlier checkpoints untouched.
    - **Load** (``load_from``, ``--resume PATH``, ``tools/test.py``): strict. A checkpoint
      that does not fit the model stops with its missing, unexpected and mis-shaped keys
      and what the file probably is (:func:`~qbheat_mm.utils.checkpoint.load_checkpoint_strict`);
      MMEngine loads with ``strict=False`` and only warns. ``load_non_strict = True`` in
      the config (the tools' ``--load-non-strict``) is the explicit opt-out.
    """

    #: Timestamps of the Runners built in this process (the same on every rank: each
    #: bumps the broadcast timestamp by the same rule).
    _timestamps_taken: set = set()

    def setup_env(self, env_cfg: dict) -> None:
        super().setup_env(env_cfg)
        fmt = '%Y%m%d_%H%M%S'
        seconds = time.mktime(time.strptime(self._timestamp, fmt))
        while self._timestamp in AtomicCheckpointRunner._timestamps_taken:
            seconds += 1
            self._timestamp = time.strftime(fmt, time.localtime(seconds))
        AtomicCheckpointRunner._timestamps_taken.add(self._timestamp)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        if not any(isinstance(hook, EpochSeedHook) for hook in self.hooks):
            self.register_hook(EpochSeedHook())

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
            try:
                super().save_checkpoint(out_dir, filename + PARTIAL_SUFFIX, **arguments)
            except OSError as error:
                if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                raise OSError(error.errno, self._disk_full_message(target)) from error
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

    def train(self):
        if not is_main_process():
            return super().train()
        with work_dir_lock(self.work_dir):
            return super().train()

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys=[(r'^module.', '')]):
        if self.cfg.get('load_non_strict', False):
            print_log(f'load_non_strict=True: {filename} loads with strict=False; keys that '
                      'do not fit keep their initial values', logger='current',
                      level=logging.WARNING)
        else:
            model = self.model.module if is_model_wrapper(self.model) else self.model
            load_checkpoint_strict(model, filename, prefix='', load=False)
            strict = True
        return super().load_checkpoint(filename, map_location=map_location, strict=strict,
                                       revise_keys=revise_keys)

    def _disk_full_message(self, target: str) -> str:
        model = self.model.module if is_model_wrapper(self.model) else self.model
        tensors = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        optimizer = getattr(self, 'optim_wrapper', None)
        for state in (getattr(getattr(optimizer, 'optimizer', None), 'state', {}) or {}).values():
            tensors += sum(v.numel() * v.element_size() for v in state.values()
                           if hasattr(v, 'numel'))
        free = shutil.disk_usage(osp.dirname(target) or '.').free
        return (f'no space left to save {target}: the checkpoint needs at least '
                f'{tensors:,} bytes (its tensors), {free:,} bytes are free there. The '
                'checkpoints saved before are untouched. Free space (or set '
                'default_hooks.checkpoint.max_keep_ckpts) and resume with --resume.')

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
