"""The Mobile-Former architecture as data: the seven published variants in one table, and
its validation.

:class:`~qbheat_mm.models.backbones.MobileFormer` builds modules from a table,
:class:`~qbheat_mm.models.heads.MobileFormerClsHead` reads its head width from it and the
reference-checkpoint converter (``tools/model_converters/``) its block kinds; none of them
imports another for it.
"""
import copy
from typing import Sequence, Union

# One row per block: (kind, out_channels, hidden, stride), with kind
#   'lite': lite bottleneck, hidden = width of its depthwise expansion, stride 1 or 2;
#   'mf':   stride-1 Mobile-Former block, hidden = expansion width;
#   'down': stride-2 Mobile-Former block, hidden = (h1, h2) of its two depthwise expansions.
# `cls_hidden_channels` is the width of the classification head's hidden layer, read by
# MobileFormerClsHead(arch=...). `groups` > 1 makes every 1x1 conv grouped (26M).
ARCH_SETTINGS: dict[str, dict] = {
    '508m': dict(
        stem_channels=24, num_tokens=6, token_dims=192, cls_hidden_channels=1920,
        blocks=[('lite', 24, 48, 1),
                ('down', 40, (144, 160), 2), ('mf', 40, 120, 1),
                ('down', 72, (240, 288), 2), ('mf', 72, 216, 1),
                ('down', 128, (432, 512), 2), ('mf', 128, 512, 1),
                ('mf', 176, 768, 1), ('mf', 176, 1056, 1),
                ('down', 240, (1056, 960), 2), ('mf', 240, 1440, 1),
                ('mf', 240, 1440, 1)]),
    '294m': dict(
        stem_channels=16, num_tokens=6, token_dims=192, cls_hidden_channels=1920,
        blocks=[('lite', 16, 32, 1),
                ('down', 24, (96, 96), 2), ('mf', 24, 96, 1),
                ('down', 48, (144, 192), 2), ('mf', 48, 192, 1),
                ('down', 96, (288, 384), 2), ('mf', 96, 384, 1),
                ('mf', 128, 576, 1), ('mf', 128, 768, 1),
                ('down', 192, (768, 768), 2), ('mf', 192, 1152, 1),
                ('mf', 192, 1152, 1)]),
    '214m': dict(
        stem_channels=12, num_tokens=6, token_dims=192, cls_hidden_channels=1600,
        blocks=[('lite', 12, 24, 1),
                ('down', 20, (72, 80), 2), ('mf', 20, 60, 1),
                ('down', 40, (120, 160), 2), ('mf', 40, 160, 1),
                ('down', 80, (240, 320), 2), ('mf', 80, 320, 1),
                ('mf', 112, 480, 1), ('mf', 112, 672, 1),
                ('down', 160, (672, 640), 2), ('mf', 160, 960, 1),
                ('mf', 160, 960, 1)]),
    '151m': dict(
        stem_channels=12, num_tokens=6, token_dims=192, cls_hidden_channels=1280,
        blocks=[('lite', 12, 24, 1),
                ('down', 16, (72, 64), 2), ('mf', 16, 48, 1),
                ('down', 32, (96, 128), 2), ('mf', 32, 96, 1),
                ('down', 64, (192, 256), 2), ('mf', 64, 256, 1),
                ('mf', 88, 384, 1), ('mf', 88, 528, 1),
                ('down', 128, (528, 512), 2), ('mf', 128, 768, 1),
                ('mf', 128, 768, 1)]),
    '96m': dict(
        stem_channels=12, num_tokens=4, token_dims=128, cls_hidden_channels=1280,
        blocks=[('lite', 12, 24, 1),
                ('down', 16, (72, 64), 2),
                ('down', 32, (96, 128), 2), ('mf', 32, 96, 1),
                ('down', 64, (192, 256), 2), ('mf', 64, 256, 1),
                ('mf', 88, 384, 1),
                ('down', 128, (528, 512), 2), ('mf', 128, 768, 1)]),
    '52m': dict(
        stem_channels=8, num_tokens=3, token_dims=128, cls_hidden_channels=1024,
        blocks=[('lite', 12, 24, 2), ('mf', 12, 36, 1),
                ('down', 24, (72, 96), 2), ('mf', 24, 72, 1),
                ('down', 48, (144, 192), 2), ('mf', 48, 192, 1),
                ('mf', 64, 288, 1),
                ('down', 96, (384, 384), 2), ('mf', 96, 576, 1)]),
}
# 26M is the 52M layout with grouped (g = 4) 1x1 convs and channel shuffles.
ARCH_SETTINGS['26m'] = dict(ARCH_SETTINGS['52m'], groups=4)

# The expanded stride-32 map has EXPAND_RATIO x the channels of the last block.
EXPAND_RATIO = 6
# Strides (w.r.t. the input) of out indices 0..3: the last block at each of them is tapped.
TAP_STRIDES = (4, 8, 16, 32)
NUM_OUT_INDICES = len(TAP_STRIDES) + 1  # + the expanded stride-32 map
MAX_FROZEN_STAGES = NUM_OUT_INDICES  # 0 = tokens + stem, 1..4 = blocks, 5 = everything

_REQUIRED_KEYS = ('stem_channels', 'num_tokens', 'token_dims', 'blocks')
_OPTIONAL_KEYS = ('groups', 'cls_hidden_channels')
_KINDS = {'lite': (1, 2), 'mf': (1, ), 'down': (2, )}  # kind -> allowed strides


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_arch(arch: dict) -> dict:
    """Validate a Mobile-Former arch table and return a normalised copy.

    Args:
        arch (dict): A table like the entries of ``ARCH_SETTINGS``.

    Returns:
        dict: The table with ``groups`` filled in and blocks as tuples.

    Raises:
        ValueError: On a missing or unknown key, a bad value, a block that does not fit
            its neighbours, or strides that do not reach 4, 8, 16 and 32.
    """
    missing = [k for k in _REQUIRED_KEYS if k not in arch]
    unknown = [k for k in arch if k not in _REQUIRED_KEYS + _OPTIONAL_KEYS]
    if missing or unknown:
        raise ValueError(
            f'Malformed Mobile-Former arch table: missing keys {missing}, unknown keys '
            f'{unknown}; required {list(_REQUIRED_KEYS)}, optional {list(_OPTIONAL_KEYS)}.')
    arch = dict(arch)
    arch.setdefault('groups', 1)
    for key in ('stem_channels', 'num_tokens', 'token_dims', 'groups',
                'cls_hidden_channels'):
        if key in arch and not _positive_int(arch[key]):
            raise ValueError(
                f'Mobile-Former arch table: {key!r} must be a positive int, got '
                f'{arch[key]!r}.')
    if arch['token_dims'] % 4:
        raise ValueError('Mobile-Former arch table: token_dims must be a multiple of 4 '
                         f'(4 Former heads), got {arch["token_dims"]}.')
    blocks = arch['blocks']
    if not isinstance(blocks, (list, tuple)) or not blocks:
        raise ValueError('Mobile-Former arch table: blocks must be a non-empty list of '
                         f'(kind, out_channels, hidden, stride) rows, got {blocks!r}.')
    arch['blocks'] = [_check_block(i, row) for i, row in enumerate(blocks)]
    in_channels = arch['stem_channels']
    for i, (kind, out_channels, hidden, _) in enumerate(arch['blocks']):
        _check_block_fit(i, kind, in_channels, out_channels, hidden, arch['groups'])
        in_channels = out_channels
    strides = block_strides(arch['blocks'])
    if strides[-1] != TAP_STRIDES[-1] or not set(TAP_STRIDES) <= set(strides):
        raise ValueError(
            'Mobile-Former arch table: after the stride-2 stem, the blocks must reach '
            f'strides {list(TAP_STRIDES)} and end at {TAP_STRIDES[-1]}; the given blocks '
            f'reach {strides}.')
    return arch


def _check_block(index: int, row: object) -> tuple:
    """Check one row's form: (kind, out_channels, hidden, stride)."""
    where = f'Mobile-Former arch table, block {index}'
    if not isinstance(row, (list, tuple)) or len(row) != 4:
        raise ValueError(f'{where}: expected a (kind, out_channels, hidden, stride) row, '
                         f'got {row!r}.')
    kind, out_channels, hidden, stride = row
    if kind not in _KINDS:
        raise ValueError(f'{where}: unknown kind {kind!r}; choose one of {list(_KINDS)}.')
    if stride not in _KINDS[kind]:
        raise ValueError(f'{where}: a {kind!r} block takes stride {_KINDS[kind]}, got '
                         f'{stride!r}.')
    if kind == 'down':
        if (not isinstance(hidden, (list, tuple)) or len(hidden) != 2
                or not all(_positive_int(h) for h in hidden)):
            raise ValueError(f'{where}: a "down" block needs hidden = (h1, h2), two '
                             f'positive ints, got {hidden!r}.')
        hidden = tuple(hidden)
    elif not _positive_int(hidden):
        raise ValueError(f'{where}: a {kind!r} block needs hidden as a positive int, got '
                         f'{hidden!r}.')
    if not _positive_int(out_channels) or out_channels % 2:
        raise ValueError(f'{where}: out_channels must be a positive even int (2 bridge '
                         f'heads), got {out_channels!r}.')
    return kind, out_channels, hidden, stride


def _check_block_fit(index: int, kind: str, in_channels: int, out_channels: int,
                     hidden: Union[int, tuple], groups: int) -> None:
    """Check that a block's widths divide as its convs and attention heads need."""
    where = f'Mobile-Former arch table, block {index} ({kind} {in_channels}->{out_channels})'
    hiddens = hidden if isinstance(hidden, tuple) else (hidden, )
    # (width, must be a multiple of, why)
    if kind == 'lite':
        needs = [(hidden, in_channels, 'depthwise expansion of the input')]
    else:
        needs = [(in_channels, 2, '2 bridge heads')]
    if kind == 'down':
        needs += [(hiddens[0], in_channels, 'depthwise expansion of the input'),
                  (hiddens[1], out_channels, 'depthwise expansion of the output')]
    if groups > 1:
        needs += [(w, groups, f'{groups}-group 1x1 convs')
                  for w in (in_channels, out_channels) + hiddens]
    for width, divisor, why in needs:
        if width % divisor:
            raise ValueError(f'{where}: width {width} must be a multiple of {divisor} '
                             f'({why}).')


def block_strides(blocks: Sequence[tuple]) -> list[int]:
    """Output stride (w.r.t. the image) of every block; the stem has stride 2."""
    strides, total = [], 2
    for _, _, _, stride in blocks:
        total *= stride
        strides.append(total)
    return strides


def get_arch(arch: Union[str, dict]) -> dict:
    """A validated arch table from a variant name ('26m' ... '508m') or a custom dict."""
    if isinstance(arch, str):
        if arch.lower() not in ARCH_SETTINGS:
            raise ValueError(f'Unknown Mobile-Former arch {arch!r}; choose one of '
                             f'{list(ARCH_SETTINGS)} or pass a custom table (dict).')
        arch = ARCH_SETTINGS[arch.lower()]
    elif not isinstance(arch, dict):
        raise ValueError(f'Mobile-Former arch must be one of {list(ARCH_SETTINGS)} or a '
                         f'dict table, got {type(arch).__name__}.')
    return check_arch(copy.deepcopy(arch))
