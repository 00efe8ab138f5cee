"""Build a model from a config and load its weights: the one way every tool does it.

>>> from qbheat_mm.apis import init_model
>>> model = init_model('configs/qbheat_mobileformer_demo.py',
...                    'work_dirs/qbheat_demo/iter_800.pth')          # the whole model
>>> backbone = init_model('configs/probing/linear-probe_...py', 'backbone.pth',
...                       backbone_only=True)                        # only its backbone

Loading is strict and safe, through the one strict loader,
:func:`qbheat_mm.utils.checkpoint.load_checkpoint_strict`: every key must fit (a partial
load raises :class:`~qbheat_mm.utils.CheckpointMismatchError` naming the missing,
unexpected and mis-shaped keys and what the file probably is, never a silently random
layer), and the file is read by MMEngine's loader as :mod:`qbheat_mm.compat` makes it,
which runs no code from it (a file holding other types needs
``qbheat_mm.compat.allow_pickle()``, the tools' ``--allow-pickle``). The model comes back
in eval mode on ``device``, with its config as ``model.cfg``.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional, Union

from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from torch import nn

from qbheat_mm.utils.checkpoint import load_checkpoint_strict
from qbheat_mm.utils.config import read_config

__all__ = ['init_model', 'read_config']


def _backbone_config(cfg: Config) -> dict:
    """``cfg.model.backbone`` without its init_cfg, in MMPretrain's scope (a detection
    config names it ``mmpretrain.MobileFormer``)."""
    backbone = dict(cfg.model.backbone)
    backbone.pop('init_cfg', None)
    backbone['type'] = str(backbone['type']).removeprefix('mmpretrain.')
    return backbone


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               device: str = 'cpu', cfg_options: Optional[dict] = None,
               backbone_only: bool = False, prefix: Optional[str] = 'auto') -> nn.Module:
    """Build the model of ``config`` and load ``checkpoint`` into it, strictly and safely.

    Args:
        config: A config file or a :class:`~mmengine.config.Config`.
        checkpoint: Weights to load. ``None`` keeps the constructors' initialisation
            (the config's ``init_cfg`` is not run: call ``model.init_weights()`` for it).
        device: Where the model goes.
        cfg_options: Overrides merged into the config first (as ``--cfg-options``).
        backbone_only: Build only ``model.backbone`` of the config (its ``init_cfg``
            dropped) and load it from a full pre-training checkpoint or an extracted
            backbone, with the key prefix ``prefix`` (``'auto'``: ``'backbone.'`` when
            present, else none).
        prefix: See ``backbone_only``.

    Returns:
        The model (or backbone) in eval mode on ``device``, its config as ``.cfg``.

    Raises:
        FileNotFoundError: The config or the checkpoint does not exist.
        CheckpointMismatchError: A key is missing, unexpected or of another shape.
        UnsafeCheckpointError: The file holds a type that only a full unpickle reads.
    """
    cfg = read_config(config, cfg_options)
    if checkpoint is not None and '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    if backbone_only:
        init_default_scope('mmpretrain')
        model = MODELS.build(_backbone_config(cfg))
        if checkpoint is not None:
            load_checkpoint_strict(model, checkpoint, prefix=prefix)
    else:
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        model = MODELS.build(cfg.model)
        if checkpoint is not None:
            load_checkpoint_strict(model, checkpoint, prefix='')
    model.cfg = cfg
    model.to(device)
    model.eval()  # not chained: some hosts' train() (MMPretrain's ResNet) returns None
    return model
