"""Compatibility patches for running OpenMMLab (last released early 2024) on modern PyTorch.

Every patch here names the upstream version it works around and when it can be deleted.
They are applied once, on ``import qbheat_mm``, and are idempotent.

1. Checkpoints under torch >= 2.6 (``weights_only``), below.
2. ``mmcv.adjust_hue`` (MoCo-v2's ColorJitter) with a negative hue under numpy >= 2.

Nothing here touches torch itself, nor MMEngine's Runner: atomic checkpoint writes and a
resume that skips a truncated checkpoint are a Runner the configs name
(:mod:`qbheat_mm.engine.runner`). Multi-process training on machines without a GPU is
not a patch: the project's tools install it for such runs only
(:mod:`qbheat_mm.engine.cpu_distributed`), and neither are decode errors that name the
image file (:mod:`qbheat_mm.datasets.image_checks`).

Security note: a pickled checkpoint can run arbitrary code when it is loaded. The
checkpoint patch below therefore loads every local and downloaded checkpoint with
``torch.load(weights_only=True)`` plus an allow-list (:data:`CHECKPOINT_SAFE_GLOBALS`) of
exactly the types MMEngine, MMPretrain and MMDetection checkpoints hold; anything else is
refused with :class:`UnsafeCheckpointError`, which names the offending types. Full
unpickling is an explicit opt-in for files you trust: ``--allow-pickle`` on
``tools/train.py`` / ``tools/test.py``, ``QBHEAT_ALLOW_PICKLE=1`` in the environment, or
:func:`allow_pickle` from Python.
"""
from __future__ import annotations

import logging
import os
import os.path as osp
import pickle
from typing import Any, Callable, Optional

import mmcv
import mmcv.image
import mmcv.image.photometric
import mmengine
import numpy as np
import torch
import torch.distributed as dist
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer, print_log
import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

__all__ = ['apply_patches', 'load_from_local', 'load_from_http', 'safe_torch_load',
           'allow_pickle', 'pickle_allowed', 'UnsafeCheckpointError', 'ALLOW_PICKLE_ENV',
           'CHECKPOINT_SAFE_GLOBALS', 'adjust_hue', 'CHECKPOINT_PATCH_NEEDED',
           'HUE_PATCH_NEEDED']

#: torch >= 2.6 defaults ``torch.load(weights_only=True)``; mmengine <= 0.10.7 calls it
#: without the argument and without an allow-list, so its own checkpoints (message hub
#: ``HistoryBuffer``, numpy scalars) no longer load, while its http loader still unpickles
#: downloads in full. Upstream: open-mmlab/mmengine issue #1655, fixed by
#: PR #1650 on the main branch but in no release. Remove this patch once the pinned
#: mmengine is a release that loads local and downloaded checkpoints with
#: ``weights_only=True`` and an allow-list of its own types (> 0.10.7).
CHECKPOINT_PATCH_NEEDED = (
    digit_version(torch.__version__) >= digit_version('2.6.0')
    and digit_version(mmengine.__version__) <= digit_version('0.10.7'))


#: Environment variable that opts in to full unpickling (``1``); inherited by torchrun's
#: processes and dataloader workers, so one switch covers a whole run.
ALLOW_PICKLE_ENV = 'QBHEAT_ALLOW_PICKLE'
_PICKLE_OPT_IN = (f'--allow-pickle (tools/train.py, tools/test.py), {ALLOW_PICKLE_ENV}=1 in '
                  'the environment, or qbheat_mm.compat.allow_pickle() in Python')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds types outside :data:`CHECKPOINT_SAFE_GLOBALS`."""


_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')


def _history_buffer_statistic(obj: Any, name: str) -> Callable:
    """The only ``getattr`` a checkpoint may call: ``HistoryBuffer``'s statistics.

    mmengine pickles ``HistoryBuffer._statistics_methods`` (``min``, ``max``, ``mean``,
    ``current``) as ``getattr(HistoryBuffer, name)``; a general ``getattr`` would hand the
    file any attribute of any allowed type.
    """
    # mmengine fills _statistics_methods on the first HistoryBuffer; it may still be empty.
    statistics = set(_HISTORY_BUFFER_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in statistics and not name.startswith('_'):
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'getattr({getattr(obj, "__qualname__", type(obj).__qualname__)}, {name!r}): a '
        f'checkpoint may only look up HistoryBuffer statistics ({", ".join(sorted(statistics))})')


def _numpy_globals() -> list:
    """numpy's array, scalar and dtype reconstructors under numpy 2 names and, for
    checkpoints written under numpy 1 (most of MMPretrain's and MMDetection's model zoo),
    under their ``numpy.core`` names."""
    multiarray = np._core.multiarray
    found = [np.ndarray, np.dtype, multiarray.scalar, multiarray._reconstruct,
             (multiarray.scalar, 'numpy.core.multiarray.scalar'),
             (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct')]
    # numpy >= 1.25 pickles a dtype's class (numpy.dtypes.Float64DType, ...) for some
    # scalars; these are plain classes without side effects.
    found += [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128)]
    return found


#: Everything beyond tensors that the checkpoints of MMEngine's Runner hold (found by
#: saving them: QB-Heat, classifiers, MoCo, detectors; tests/compat/test_compat_checkpoint.py):
#: the message hub's ``HistoryBuffer`` and its statistics lookup, and numpy arrays,
#: scalars and dtypes (logged values, runtime info).
CHECKPOINT_SAFE_GLOBALS: list = [
    HistoryBuffer, (_history_buffer_statistic, 'builtins.getattr'), *_numpy_globals()]


def pickle_allowed() -> bool:
    """True when the user opted in to full unpickling (``QBHEAT_ALLOW_PICKLE=1``)."""
    return os.environ.get(ALLOW_PICKLE_ENV, '') == '1'


def allow_pickle(enabled: bool = True) -> None:
    """Opt in (or back out) of full unpickling for this process and its children.

    Only for checkpoints you trust: unpickling runs code from the file.
    """
    if enabled:
        os.environ[ALLOW_PICKLE_ENV] = '1'
    else:
        os.environ.pop(ALLOW_PICKLE_ENV, None)


def _unsafe_globals(filename: str) -> list[str]:
    """Globals of a checkpoint file outside torch's and our allow-lists ([] if unknown)."""
    allowed = {f'{g.__module__}.{g.__qualname__}' for g in CHECKPOINT_SAFE_GLOBALS
               if not isinstance(g, tuple)}
    allowed |= {g[1] for g in CHECKPOINT_SAFE_GLOBALS if isinstance(g, tuple)}
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # legacy (non-zip) files: torch's own message must do
        return []
    return [name for name in found if name not in allowed]


def _unpickler_complaint(message: str) -> str:
    """The line of torch's ``Weights only load failed`` message that says what failed."""
    lines = [line.strip() for line in message.split('WeightsUnpickler error:')[-1].splitlines()]
    return next((line for line in lines if line), message)


def safe_torch_load(filename: str, map_location=None) -> Any:
    """``torch.load`` that never runs code from the file unless the user opted in.

    Raises:
        UnsafeCheckpointError: The file holds a type outside the allow-list; the message
            names it and the opt-in.
    """
    if pickle_allowed():
        print_log(f'{ALLOW_PICKLE_ENV}=1: fully unpickling {filename} (runs code from the '
                  'file; only for files you trust).', logger='current', level=logging.WARNING)
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(CHECKPOINT_SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        offending = _unsafe_globals(filename)
        what = ', '.join(offending) if offending else _unpickler_complaint(str(error))
        raise UnsafeCheckpointError(
            f'Refusing to load {filename}: it holds {what}, which is not on the allow-list '
            'of checkpoint types (tensors, MMEngine\'s HistoryBuffer, numpy arrays and '
            'scalars); unpickling it could run code from the file. If you trust the file, '
            f'opt in with {_PICKLE_OPT_IN}. To share weights, export a plain state dict '
            '(tools/model_converters/extract_backbone.py).') from error


def load_from_local(filename: str, map_location=None) -> Any:
    """mmengine's local-file checkpoint loader, loading with :func:`safe_torch_load`.

    The name matters: mmengine logs the loader as ``Loads checkpoint by local backend``
    by slicing it.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def _download(url: str, model_dir: Optional[str], progress: bool) -> str:
    """Download ``url`` into torch hub's checkpoint cache once; return the local path."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, osp.basename(url.split('?')[0]))
    if not osp.exists(cached):
        torch.hub.download_url_to_file(url, cached, progress=progress)
    return cached


def load_from_http(filename: str, map_location=None, model_dir: Optional[str] = None,
                   progress: bool = os.isatty(0)) -> Any:
    """mmengine's http(s) loader (also behind ``openmmlab://``, ``mmcls://``,
    ``torchvision://``), loading the download with :func:`safe_torch_load`.

    mmengine's own calls ``torch.hub.load_state_dict_from_url``, whose ``weights_only``
    defaults to False: every downloaded checkpoint was fully unpickled. Rank 0 downloads
    first, as in mmengine.
    """
    rank, world_size = get_dist_info()
    if rank == 0:
        cached = _download(filename, model_dir, progress)
    if world_size > 1:
        dist.barrier()
        if rank > 0:
            cached = _download(filename, model_dir, progress)
    return safe_torch_load(cached, map_location=map_location)


#: mmcv <= 2.1.0 ``adjust_hue`` shifts the hue channel by ``np.uint8(hue_factor * 255)``,
#: which numpy >= 2 refuses for a negative factor ("OverflowError: Python integer -11 out
#: of bounds for uint8"; numpy 1 wrapped it to 245). MoCo-v2's ColorJitter (hue 0.1) draws
#: negative factors half the time, so its training crashes within a few batches. Remove
#: once the pinned mmcv wraps the shift itself.
HUE_PATCH_NEEDED = (digit_version(mmcv.__version__) <= digit_version('2.1.0')
                    and digit_version(np.__version__) >= digit_version('2.0.0'))
_MMCV_ADJUST_HUE = mmcv.image.photometric.adjust_hue


class _WrappingHueFactor(float):
    """A hue factor whose product with 255 is already wrapped into uint8's 0..255.

    mmcv only multiplies the factor by 255 (after range-checking it as a float), so this
    restores numpy 1's truncate-then-wrap result and leaves mmcv's algorithm untouched.
    """

    def __mul__(self, other: float) -> int:
        return int(float(self) * other) % 256


def adjust_hue(img: np.ndarray, hue_factor: float,
               backend: Optional[str] = None) -> np.ndarray:
    """``mmcv.adjust_hue`` that also takes negative hue factors under numpy >= 2."""
    return _MMCV_ADJUST_HUE(img, _WrappingHueFactor(hue_factor), backend=backend)


def apply_patches() -> None:
    """Apply every patch this environment needs (safe to call more than once)."""
    if CHECKPOINT_PATCH_NEEDED:
        # The empty prefix is mmengine's fallback scheme for local paths; every local load
        # (Runner.resume, load_from, PretrainedInit, load_checkpoint) goes through it.
        CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
        CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                         loader=load_from_http, force=True)
        # The openmmlab:// / mmcls:// / torchvision:// loaders call this module global.
        mmengine_checkpoint.load_from_http = load_from_http
    if HUE_PATCH_NEEDED:
        # mmpretrain's ColorJitter calls mmcv.adjust_hue: replace every public name.
        for module in (mmcv, mmcv.image, mmcv.image.photometric):
            module.adjust_hue = adjust_hue


apply_patches()
