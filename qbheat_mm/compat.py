"""Compatibility patches for running OpenMMLab (last released early 2024) on modern PyTorch.

Every patch here names the upstream version it works around and when it can be deleted.
They are applied once, on ``import qbheat_mm``, and are idempotent.

Security note: a pickled checkpoint can run arbitrary code when it is loaded. The
checkpoint patch below restores the pre-2.6 behaviour of mmengine (full unpickling) so
that ``--resume``, ``load_from`` and ``init_cfg=dict(type='Pretrained')`` work again.
**Only load checkpoints you trust.** To share weights, export a plain ``state_dict``
(``tools/model_converters/extract_backbone.py``); those load with ``weights_only=True``.
"""
from __future__ import annotations

import os.path as osp

import mmengine
import torch
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

__all__ = ['apply_patches', 'load_from_local', 'CHECKPOINT_PATCH_NEEDED']

#: torch >= 2.6 defaults ``torch.load(weights_only=True)``; mmengine <= 0.10.7 calls it
#: without the argument, so its own checkpoints (message hub ``HistoryBuffer``, numpy
#: scalars, the config) no longer load. Upstream: open-mmlab/mmengine issue #1655, fixed by
#: PR #1650 on the main branch but in no release. Remove this patch once the pinned
#: mmengine is a release that passes ``weights_only`` itself (> 0.10.7).
CHECKPOINT_PATCH_NEEDED = (
    digit_version(torch.__version__) >= digit_version('2.6.0')
    and digit_version(mmengine.__version__) <= digit_version('0.10.7'))


def load_from_local(filename: str, map_location=None) -> dict:
    """mmengine's local-file checkpoint loader with ``weights_only=False`` made explicit.

    The name matters: mmengine logs the loader as ``Loads checkpoint by local backend``
    by slicing it.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def apply_patches() -> None:
    """Apply every patch this environment needs (safe to call more than once)."""
    if CHECKPOINT_PATCH_NEEDED:
        # The empty prefix is mmengine's fallback scheme for local paths; every local load
        # (Runner.resume, load_from, PretrainedInit, load_checkpoint) goes through it.
        CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)


apply_patches()
