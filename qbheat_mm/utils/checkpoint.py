"""Strict bridge from pre-training checkpoints to backbones.

MMEngine's ``Pretrained`` initialiser loads with ``strict=False`` and only logs mismatched
keys, so a wrong prefix silently leaves a random backbone. Everything here fails loudly
instead: every key of the backbone must come from the checkpoint, and every key taken from
the checkpoint must land in the backbone, unless the caller opts out with ``strict=False``.

Checkpoints are read with MMEngine's ``CheckpointLoader``, so the safe loading of
:mod:`qbheat_mm.compat` applies: ``weights_only=True`` with an allow-list of MMEngine's
checkpoint types, full unpickling only with the explicit opt-in. Share weights as the
plain state dicts that :func:`save_backbone_state_dict` writes (tensors only).
"""
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
import logging
import re
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import _load_checkpoint

BACKBONE_PREFIX = 'backbone.'
# How many keys an error message shows per list before it only counts the rest.
MAX_KEYS_SHOWN = 10


class CheckpointMismatchError(RuntimeError):
    """A checkpoint does not fit the module it should initialise."""


@dataclass
class LoadReport:
    """What :func:`load_backbone_checkpoint` did.

    Args:
        filename: The checkpoint that was read.
        prefix: The prefix taken from the checkpoint keys ('' for a plain state dict).
        loaded: Number of module keys set from the checkpoint.
        total: Number of keys in the module's state dict.
        missing: Module keys the checkpoint lacks (non-empty only with ``strict=False``).
        unexpected: Checkpoint keys the module lacks (idem).
        mismatched: ``key: checkpoint shape vs module shape`` strings (idem).
    """
    filename: str
    prefix: str
    loaded: int
    total: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every module key was loaded and nothing was left over."""
        return not (self.missing or self.unexpected or self.mismatched)


def _state_dict_of(checkpoint: dict) -> dict:
    """The weights of a full MMEngine checkpoint or of a plain state dict."""
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'expected a checkpoint dict, got {type(checkpoint).__name__}')
    state_dict = checkpoint.get('state_dict', checkpoint)
    # Checkpoints saved from a DistributedDataParallel wrapper carry 'module.'.
    return OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state_dict.items()
                       if isinstance(v, torch.Tensor))


def _top_level_prefixes(keys: list[str]) -> str:
    """'backbone. (240 keys), neck. (8 keys)': what a checkpoint holds, for messages."""
    counts = Counter(k.split('.', 1)[0] + '.' if '.' in k else k for k in keys)
    return ', '.join(f'{p} ({n} keys)' for p, n in counts.most_common())


def _shorten(keys: list[str]) -> str:
    shown = ', '.join(keys[:MAX_KEYS_SHOWN])
    more = len(keys) - MAX_KEYS_SHOWN
    return shown + (f', ... and {more} more' if more > 0 else '')


def resolve_prefix(keys: list[str], prefix: Optional[str]) -> str:
    """Turn the user's prefix choice into the literal key prefix to strip.

    Args:
        keys: The checkpoint's keys.
        prefix: ``'auto'`` picks ``'backbone.'`` when any key starts with it (a full
            pre-training checkpoint; MoCo's ``'momentum_encoder.'`` is never picked) and
            no prefix otherwise (an extracted backbone). ``None`` or ``''``: no prefix.
            Any other string is used as given, with a trailing dot added.

    Returns:
        The prefix, ``''`` for none.
    """
    if prefix == 'auto':
        return BACKBONE_PREFIX if any(k.startswith(BACKBONE_PREFIX) for k in keys) else ''
    if prefix is None or prefix == '':
        return ''
    if not isinstance(prefix, str):
        raise ValueError(f"prefix must be 'auto', None or a string such as 'backbone.', "
                         f'got {prefix!r}')
    return prefix if prefix.endswith('.') else prefix + '.'


def extract_backbone_state_dict(checkpoint: dict, prefix: Optional[str] = 'auto'
                                ) -> tuple['OrderedDict[str, torch.Tensor]', str]:
    """Select the weights under ``prefix`` and strip it.

    Args:
        checkpoint: A loaded full checkpoint (weights under ``'state_dict'``) or plain
            state dict.
        prefix: See :func:`resolve_prefix`.

    Returns:
        The stripped state dict and the prefix used.

    Raises:
        CheckpointMismatchError: No key starts with the prefix (the message lists what the
            checkpoint holds).
    """
    state_dict = _state_dict_of(checkpoint)
    keys = list(state_dict)
    used = resolve_prefix(keys, prefix)
    selected = OrderedDict((k[len(used):], v) for k, v in state_dict.items()
                           if k.startswith(used))
    if not selected:
        raise CheckpointMismatchError(
            f'no checkpoint key starts with prefix {used!r}. The checkpoint holds: '
            f'{_top_level_prefixes(keys) or "no tensors"}. Pass the prefix of the '
            "backbone weights (e.g. prefix='backbone.') or use another checkpoint.")
    return selected, used


def save_backbone_state_dict(filename: str, out: str, prefix: Optional[str] = BACKBONE_PREFIX,
                             map_location: str = 'cpu') -> tuple[int, str]:
    """Write the backbone weights of a checkpoint as a plain state dict.

    The output holds tensors only, so it loads with ``torch.load(weights_only=True)``
    and needs no prefix afterwards.

    Args:
        filename: Input checkpoint (full pre-training checkpoint or state dict).
        out: Output path.
        prefix: Prefix of the backbone keys; see :func:`resolve_prefix`.
        map_location: Where tensors are loaded.

    Returns:
        Number of keys written and the prefix they were taken from.
    """
    checkpoint = _load_checkpoint(filename, map_location=map_location, logger='current')
    state_dict, used = extract_backbone_state_dict(checkpoint, prefix)
    # Clone so that views do not drag their whole storage into the file.
    torch.save(OrderedDict((k, v.detach().clone()) for k, v in state_dict.items()), out)
    return len(state_dict), used


def fill_missing_state(module: nn.Module, state_dict: dict) -> list[str]:
    """Let submodules add, in place, keys that older checkpoints lack; return those keys.

    A submodule opts in with a ``fill_missing_state(state_dict, prefix)`` method (e.g.
    ``MobileFormer`` and its bridge flag) that does what its ``_load_from_state_dict``
    does anyway, so the strict comparison below agrees with what loading accepts.
    """
    filled = []
    for name, sub in module.named_modules():
        fill = getattr(sub, 'fill_missing_state', None)
        if callable(fill):
            filled += fill(state_dict, f'{name}.' if name else '')
    return filled


def compare_state_dicts(expected: dict, state_dict: dict) -> tuple[list, list, list]:
    """What keeps ``state_dict`` from loading strictly into a module whose state dict is
    ``expected``: the missing keys, the unexpected ones and ``'key: shape vs shape'`` for
    those of another shape."""
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [f'{k}: {tuple(v.shape)} vs {tuple(expected[k].shape)}'
                  for k, v in state_dict.items()
                  if k in expected and hasattr(v, 'shape') and v.shape != expected[k].shape]
    return missing, unexpected, mismatched


def _mismatch_message(module: nn.Module, report: LoadReport, strict: bool) -> str:
    lines = [
        f'Checkpoint {report.filename} does not fit {type(module).__name__}: '
        f'prefix {report.prefix!r}, {report.loaded}/{report.total} module keys loadable.'
    ]
    if report.missing:
        lines.append(f'  missing in checkpoint ({len(report.missing)}): '
                     f'{_shorten(report.missing)}')
    if report.unexpected:
        lines.append(f'  unexpected in checkpoint ({len(report.unexpected)}): '
                     f'{_shorten(report.unexpected)}')
    if report.mismatched:
        lines.append(f'  shape mismatch ({len(report.mismatched)}): '
                     f'{_shorten(report.mismatched)}')
    if strict:
        lines.append(
            "How to fix: check that the checkpoint comes from this architecture, set the "
            "prefix of the backbone keys (prefix='backbone.' for a full pre-training "
            "checkpoint, prefix=None for an extracted one, e.g. "
            "--cfg-options model.backbone.init_cfg.prefix=backbone.), or opt out "
            'explicitly with strict=False (loads the matching keys, warns about the rest).')
    return '\n'.join(lines)


def load_backbone_checkpoint(module: nn.Module, filename: str,
                             prefix: Optional[str] = 'auto', strict: bool = True,
                             map_location: str = 'cpu') -> LoadReport:
    """Load a backbone from a full pre-training checkpoint or an extracted state dict.

    Args:
        module: The backbone to initialise.
        filename: Checkpoint path or any URI MMEngine's ``CheckpointLoader`` accepts.
        prefix: Prefix of the backbone keys; ``'auto'`` (default) picks ``'backbone.'``
            when present, else none. See :func:`resolve_prefix`.
        strict: If True (default), any missing, unexpected or mis-shaped key raises
            :class:`CheckpointMismatchError` and nothing is loaded. If False, the
            matching keys are loaded and a warning lists the rest.
        map_location: Where tensors are loaded.

    Returns:
        A :class:`LoadReport`.
    """
    if not filename:
        raise ValueError(f'no checkpoint given (filename={filename!r})')
    checkpoint = _load_checkpoint(filename, map_location=map_location, logger='current')
    state_dict, used = extract_backbone_state_dict(checkpoint, prefix)
    fill_missing_state(module, state_dict)
    expected = module.state_dict()
    missing, unexpected, mismatched = compare_state_dicts(expected, state_dict)
    loadable = OrderedDict((k, v) for k, v in state_dict.items()
                           if k in expected and v.shape == expected[k].shape)
    report = LoadReport(str(filename), used, len(loadable), len(expected),
                        missing, unexpected, mismatched)

    if not report.complete:
        message = _mismatch_message(module, report, strict)
        if strict:
            raise CheckpointMismatchError(message)
        print_log('strict=False: loading a PARTIAL backbone, the keys below keep their '
                  'initial (random) values.\n' + message, logger='current',
                  level=logging.WARNING)
    module.load_state_dict(loadable, strict=report.complete)
    return report


def _mark_submodules_initialised(module: nn.Module) -> None:
    """Stop ``BaseModule.init_weights`` from re-initialising what was just loaded.

    MMEngine runs every init_cfg except the literal type ``'Pretrained'`` *before* it
    recurses into the children's ``init_weights``, which would overwrite the loaded
    weights (mmcv's ``ConvModule`` re-runs Kaiming init, for example). Children are
    therefore initialised first, here, and then flagged as done.
    """
    for child in module.children():
        if hasattr(child, 'init_weights') and not getattr(child, 'is_init', False):
            child.init_weights()
    for sub in module.modules():
        if sub is not module and hasattr(sub, 'init_weights'):
            sub.is_init = True


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit:
    """``init_cfg`` type that loads a backbone with :func:`load_backbone_checkpoint`.

    Registered in MMEngine's root ``WEIGHT_INITIALIZERS``, so MMPretrain and MMDetection
    scopes both find it. Put it as the only entry of the backbone's ``init_cfg``.

    Args:
        checkpoint: Checkpoint path. None raises: a probe must never fall back to a
            random backbone silently (the random control is ``init_cfg=None``).
        prefix: Prefix of the backbone keys, ``'auto'`` by default.
        strict: False is the explicit opt-out (partial load with a loud warning).
        map_location: Where tensors are loaded.
    """

    def __init__(self, checkpoint: Optional[str] = None, prefix: Optional[str] = 'auto',
                 strict: bool = True, map_location: str = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.strict = strict
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        if not self.checkpoint:
            raise ValueError(
                f'StrictPretrained of {type(module).__name__} has no checkpoint. Pass one '
                'with --cfg-options model.backbone.init_cfg.checkpoint=PATH, or set '
                'model.backbone.init_cfg=None to train on a randomly initialised backbone '
                '(the random control).')
        _mark_submodules_initialised(module)
        report = load_backbone_checkpoint(module, self.checkpoint, self.prefix,
                                          self.strict, self.map_location)
        print_log(f'StrictPretrained: loaded {report.loaded}/{report.total} backbone keys '
                  f'from prefix {report.prefix!r} of {self.checkpoint}', logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=f'StrictPretrained: {self.checkpoint}')
