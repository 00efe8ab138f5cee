"""The one strict checkpoint loader: whole models, backbones and parts of a model.

MMEngine's ``Pretrained`` initialiser and ``load_from`` load with ``strict=False`` and only
log mismatched keys, so a wrong prefix or a checkpoint of another model silently leaves
random weights. :func:`load_checkpoint_strict` fails loudly instead: every key of the module
(or of the ``parts`` asked for) must come from the checkpoint, and every key taken from the
checkpoint must land in it, unless the caller opts out with ``strict=False``. Its one set
of messages names the missing, unexpected and mis-shaped keys and what the checkpoint
probably is (an extracted backbone, a pre-training, another width) with the fix.
:func:`read_checkpoint` names a truncated or corrupt file before torch's own error does.

Checkpoints are read with MMEngine's ``CheckpointLoader``, so the safe loading of
:mod:`qbheat_mm.compat` applies: ``weights_only=True`` with an allow-list of MMEngine's
checkpoint types, full unpickling only with the explicit opt-in. Share weights as the
plain state dicts that :func:`save_backbone_state_dict` writes (tensors only).
"""
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
import logging
import os.path as osp
import re
from typing import Optional, Sequence
import zipfile

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


class CheckpointReadError(RuntimeError):
    """A checkpoint file is truncated, empty or otherwise unreadable."""


def is_complete_checkpoint(path) -> bool:
    """True for a readable ``torch.save`` zip archive (its directory is written last, so
    a truncated file fails); the tensors are not read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith('/data.pkl') or name == 'data.pkl'
                       for name in archive.namelist())
    except (OSError, ValueError, zipfile.BadZipFile):  # ValueError: a path with a NUL byte
        return False


def read_checkpoint(filename: str, map_location: str = 'cpu') -> dict:
    """A checkpoint read by MMEngine's ``CheckpointLoader`` (so the safe loading of
    :mod:`qbheat_mm.compat` applies). A local file that is missing, empty, truncated or
    not a checkpoint raises, naming the file, what is wrong with it and what to do,
    instead of torch's ``PytorchStreamReader failed ...``."""
    if not filename:
        raise ValueError(f'no checkpoint given (filename={filename!r})')
    if '://' not in str(filename):
        if not osp.isfile(filename):
            raise FileNotFoundError(f'checkpoint not found: {filename}')
        size = osp.getsize(filename)
        with open(filename, 'rb') as f:
            head = f.read(2)
        if size == 0 or (head == b'PK' and not is_complete_checkpoint(filename)):
            raise CheckpointReadError(
                f'{filename} is not a complete checkpoint ({size:,} bytes: '
                + ('empty' if size == 0 else "its zip directory, which torch.save writes "
                   'last, is missing or unreadable') + '). It was probably being written '
                'when its run was killed or its disk filled. Use the checkpoint before it '
                '(a run resumed with --resume skips such files) or save it again.')
    try:
        return _load_checkpoint(filename, map_location=map_location, logger='current')
    except (EOFError, zipfile.BadZipFile) as error:
        raise CheckpointReadError(f'{filename} could not be read as a checkpoint '
                                  f'({type(error).__name__}: {error}); is it one?') from error
    except RuntimeError as error:
        if 'PytorchStreamReader' in str(error) or 'central directory' in str(error):
            raise CheckpointReadError(f'{filename} is not a readable checkpoint: {error}. '
                                      'Use another checkpoint or save it again.') from error
        raise


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
    checkpoint = read_checkpoint(filename, map_location)
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


def _what_it_is(module: nn.Module, expected: dict, state_dict: dict, used: str,
                filename: str) -> str:
    """What the checkpoint probably is, and the fix, judged from its keys."""
    keys, wanted = set(state_dict), set(expected)
    backbone_keys = {k[len(BACKBONE_PREFIX):] for k in wanted if k.startswith(BACKBONE_PREFIX)}
    if backbone_keys and keys and keys <= backbone_keys:
        return (f'{filename} holds a backbone only (an extracted backbone): it initialises '
                "a model's backbone through init_cfg (a probe or detector: tools/train.py "
                f'CONFIG --cfg-options model.backbone.init_cfg.checkpoint={filename}, then '
                'test that run\'s checkpoint), or loads with init_model(CONFIG, CHECKPOINT, '
                'backbone_only=True). It is not a checkpoint of this whole model.')
    if used == '' and backbone_keys and {f'{BACKBONE_PREFIX}{k}' for k in backbone_keys} <= keys \
            and keys - wanted:
        return (f'{filename} has this backbone but other heads: a checkpoint of another model '
                'on the same backbone (a pre-training, say). Its backbone initialises this '
                "config's through init_cfg (--cfg-options model.backbone.init_cfg.checkpoint="
                f'{filename}); train the probe or detector, then test its own checkpoint.')
    if keys == wanted:  # every key there, so some have another shape
        return ('The same layers at other shapes: a checkpoint of another architecture or '
                'width (a Mobile-Former arch, a ResNet depth, a number of classes). Use the '
                'config the checkpoint was trained with.')
    if not keys & wanted:
        return (f'None of its keys is a key of {type(module).__name__}: it is a checkpoint of '
                'another model or another library (it holds '
                f'{_top_level_prefixes(list(keys)) or "no tensors"}). Check the file and the '
                "prefix of the wanted keys (prefix='backbone.' for a full pre-training "
                'checkpoint, prefix=None for an extracted one), or convert the file first '
                '(tools/model_converters/).')
    return ('Check that the checkpoint comes from this architecture and set the prefix of '
            "the backbone keys (prefix='backbone.' for a full pre-training checkpoint, "
            'prefix=None for an extracted one, e.g. --cfg-options '
            'model.backbone.init_cfg.prefix=backbone.).')


def _mismatch_message(module: nn.Module, report: LoadReport, hint: str,
                      strict: bool) -> str:
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
        lines.append(f'How to fix: {hint} Loading only the keys that fit is an explicit '
                     'opt-out (strict=False; the tools: --load-non-strict), never the default.')
    return '\n'.join(lines)


def load_checkpoint_strict(module: nn.Module, filename, prefix: Optional[str] = 'auto',
                           parts: Optional[Sequence[str]] = None, strict: bool = True,
                           map_location: str = 'cpu', load: bool = True) -> LoadReport:
    """Load ``module`` from a checkpoint, every key or none (the one strict loader).

    Args:
        module: What to load: a backbone, a whole model, or a model of which only
            ``parts`` are loaded.
        filename: Checkpoint path or any URI MMEngine's ``CheckpointLoader`` accepts (read
            by :func:`read_checkpoint`), or a checkpoint already read (a dict).
        prefix: Prefix of the module's keys in the checkpoint; ``'auto'`` (default) picks
            ``'backbone.'`` when present, else none (a backbone from a pre-training
            checkpoint or an extracted one); ``''`` or None for a whole model. See
            :func:`resolve_prefix`.
        parts: Top-level submodules of ``module`` to load (e.g. ``('backbone', 'neck')``),
            from a whole-model checkpoint; the others keep their values.
        strict: If True (default), any missing, unexpected or mis-shaped key raises
            :class:`CheckpointMismatchError` and nothing is loaded. If False, the
            matching keys are loaded and a warning lists the rest.
        map_location: Where tensors are loaded.
        load: False only checks (the report, or the error), loading nothing.

    Returns:
        A :class:`LoadReport`.
    """
    if isinstance(filename, dict):
        checkpoint, filename = filename, 'the given checkpoint'
    else:
        checkpoint = read_checkpoint(filename, map_location)
    if parts:
        prefix = ''
    state_dict, used = extract_backbone_state_dict(checkpoint, prefix)
    fill_missing_state(module, state_dict)
    expected = module.state_dict()
    if parts:
        inside = tuple(f'{p}.' for p in parts)
        expected = OrderedDict((k, v) for k, v in expected.items() if k.startswith(inside))
        state_dict = OrderedDict((k, v) for k, v in state_dict.items() if k.startswith(inside))
    missing, unexpected, mismatched = compare_state_dicts(expected, state_dict)
    loadable = OrderedDict((k, v) for k, v in state_dict.items()
                           if k in expected and v.shape == expected[k].shape)
    report = LoadReport(str(filename), used, len(loadable), len(expected),
                        missing, unexpected, mismatched)
    if not report.complete:
        hint = _what_it_is(module, expected, state_dict, used, str(filename))
        message = _mismatch_message(module, report, hint, strict)
        if strict:
            raise CheckpointMismatchError(message)
        print_log('strict=False: loading a PARTIAL model, the keys below keep their '
                  'initial (random) values.\n' + message, logger='current',
                  level=logging.WARNING)
    if load:
        module.load_state_dict(loadable, strict=report.complete and not parts)
    return report


def load_backbone_checkpoint(module: nn.Module, filename: str,
                             prefix: Optional[str] = 'auto', strict: bool = True,
                             map_location: str = 'cpu') -> LoadReport:
    """A backbone from a full pre-training checkpoint or an extracted state dict:
    :func:`load_checkpoint_strict` with the backbone's prefix found automatically."""
    return load_checkpoint_strict(module, filename, prefix, strict=strict,
                                  map_location=map_location)


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
