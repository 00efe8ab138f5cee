"""Convert a reference Mobile-Former ImageNet checkpoint (AAboys/MobileFormer) to ours.

    python tools/model_converters/mobileformer_official_to_mmpretrain.py SRC DST --arch 294m

The output is ``{'state_dict': {backbone.*, head.*}}`` for an MMPretrain ``ImageClassifier``
with ``MobileFormer(arch, with_tokens=True)`` and ``MobileFormerClsHead(arch=arch)``; it
loads with ``torch.load(DST, weights_only=True)``, with ``tools/test.py CONFIG DST`` and,
for the backbone alone, with ``init_cfg=dict(type='StrictPretrained', checkpoint=DST,
prefix='backbone.')``. Every key must match: the tool prints the counts and exits with
status 1, listing the keys, when any reference key is left over or the converted weights
do not load strictly into the model.

The key mapping (this file's first half): the reference (``AAboys/MobileFormer``) names a
classifier's modules ``tokens``, ``stem``, ``features.<i>.*``, ``local_global`` and
``classifier.*``; ours are an MMPretrain ``ImageClassifier`` with ``backbone.*``
(:class:`MobileFormer`) and ``head.*`` (:class:`MobileFormerClsHead`). Both directions are
built from the same arch table, so the mapping is one table per block kind. The reference
checkpoints are supervised classifiers, so their final Mobile -> Former bridge is trained:
the conversion adds ``backbone.final_bridge_trained = 1`` (our record of that, see
:class:`MobileFormer`), and the inverse drops it.
"""
import argparse
import sys
from collections import OrderedDict
from typing import Mapping, Optional, Union

import torch

from qbheat_mm.models.backbones.mobile_former import (BRIDGE_FLAG, BRIDGE_TRAINED,
                                                      MobileFormer)
from qbheat_mm.models.heads.mobile_former_cls_head import MobileFormerClsHead
from qbheat_mm.models.utils.mobile_former_arch import ARCH_SETTINGS, get_arch
from qbheat_mm.engine.cli import add_allow_pickle

# Reference module path inside a block -> ours, per block kind.
_BLOCK_MODULES = {
    'lite': {'conv.0': 'dw.conv', 'conv.1': 'dw.bn', 'conv.4': 'pw.conv', 'conv.5': 'pw.bn'},
    'mf': {
        'conv1.0': 'pw1.conv', 'conv1.1': 'pw1.bn', 'hyper1.hyper.0': 'act1.mlp.0',
        'hyper1.hyper.2': 'act1.mlp.2', 'conv2.0': 'dw.conv', 'conv2.1': 'dw.bn',
        'hyper2.hyper.0': 'act2.mlp.0', 'hyper2.hyper.2': 'act2.mlp.2',
        'conv3.0': 'pw2.conv', 'conv3.1': 'pw2.bn'
    },
    'down': {
        'conv1.0': 'dw1.conv', 'conv1.1': 'dw1.bn', 'hyper1.hyper.0': 'act1.mlp.0',
        'hyper1.hyper.2': 'act1.mlp.2', 'conv2.0': 'pw1.conv', 'conv2.1': 'pw1.bn',
        'conv3.0': 'dw2.conv', 'conv3.1': 'dw2.bn', 'hyper3.hyper.0': 'act2.mlp.0',
        'hyper3.hyper.2': 'act2.mlp.2', 'conv4.0': 'pw2.conv', 'conv4.1': 'pw2.bn'
    },
}
_MOBILE_TO_FORMER = {
    'local_global.alpha.0': 'mobile_to_former.gate', 'local_global.q': 'mobile_to_former.q',
    'local_global.proj': 'mobile_to_former.proj',
    'local_global.layer_norm': 'mobile_to_former.norm'
}
_BRIDGES = {
    **_MOBILE_TO_FORMER,
    'global_block.q': 'former.q', 'global_block.channel_mlp': 'former.proj',
    'global_block.layer_norm': 'former.norm1', 'global_block.ffn.0': 'former.ffn.0',
    'global_block.ffn.2': 'former.ffn.2', 'global_block.ffn_norm': 'former.norm2',
    'global_local.k': 'former_to_mobile.k', 'global_local.proj': 'former_to_mobile.v'
}
_TOP = {
    'stem.0': 'backbone.stem.conv', 'stem.1': 'backbone.stem.bn',
    'classifier.conv.1': 'backbone.expand.conv', 'classifier.conv.2': 'backbone.expand.bn',
    'classifier.fc.0': 'head.fc', 'classifier.fc.1': 'head.bn',
    'classifier.classifier.1': 'head.classifier'
}
# Full keys that are not "<module>.<param>" on both sides.
_TOKENS = ('tokens.weight', 'backbone.tokens')
# Ours only: the record that the final bridge was trained (placed after the tokens, where
# MobileFormer.state_dict() has it).
_BRIDGE_FLAG_KEY = f'backbone.{BRIDGE_FLAG}'


def module_map(arch: Union[str, dict]) -> dict[str, str]:
    """Reference module path -> our module path, for a whole classifier of ``arch``."""
    mapping = dict(_TOP)
    mapping.update({k: f'backbone.{v}' for k, v in _MOBILE_TO_FORMER.items()})
    for i, (kind, *_) in enumerate(get_arch(arch)['blocks']):
        parts = dict(_BLOCK_MODULES[kind])
        if kind != 'lite':
            parts.update(_BRIDGES)
        mapping.update(
            {f'features.{i}.{k}': f'backbone.blocks.{i}.{v}' for k, v in parts.items()})
    return mapping


def _rename(state_dict: Mapping[str, torch.Tensor], modules: Mapping[str, str],
            full_keys: Mapping[str, str]) -> tuple[OrderedDict, list[str]]:
    renamed, unmatched = OrderedDict(), []
    for key, value in state_dict.items():
        module, _, param = key.rpartition('.')
        if key in full_keys:
            renamed[full_keys[key]] = value
        elif module in modules:
            renamed[f'{modules[module]}.{param}'] = value
        else:
            unmatched.append(key)
    return renamed, unmatched


def convert_official_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        arch: Union[str, dict]) -> tuple[OrderedDict, list[str]]:
    """Rename a reference state dict to an MMPretrain ``ImageClassifier`` state dict.

    Args:
        state_dict (Mapping[str, Tensor]): Reference keys (``module.`` already stripped).
        arch (str | dict): The variant the checkpoint belongs to.

    Returns:
        tuple: The renamed state dict (``backbone.*``, ``head.*``, plus
        ``backbone.final_bridge_trained = 1``) and the reference keys that matched nothing
        (empty for a complete, correct checkpoint).
    """
    renamed, unmatched = _rename(state_dict, module_map(arch), dict([_TOKENS]))
    with_flag = OrderedDict()
    for key, value in renamed.items():
        with_flag[key] = value
        if key == _TOKENS[1]:
            with_flag[_BRIDGE_FLAG_KEY] = torch.tensor(BRIDGE_TRAINED)
    return with_flag, unmatched


def convert_to_official_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        arch: Union[str, dict]) -> tuple[OrderedDict, list[str]]:
    """The inverse of :func:`convert_official_state_dict` (ours -> reference names)."""
    inverse = {v: k for k, v in module_map(arch).items()}
    ours = OrderedDict((k, v) for k, v in state_dict.items() if k != _BRIDGE_FLAG_KEY)
    return _rename(ours, inverse, {_TOKENS[1]: _TOKENS[0]})


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='reference checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', required=True, choices=list(ARCH_SETTINGS),
                        help='the variant the checkpoint belongs to')
    add_allow_pickle(parser)  # e.g. timm training state with an argparse.Namespace
    return parser.parse_args(argv)


def load_reference_state_dict(path: str, allow_pickle: bool) -> dict:
    """The reference weights, unwrapped from timm's checkpoint dict and DDP's ``module.``."""
    checkpoint = torch.load(path, map_location='cpu', weights_only=not allow_pickle)
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint, dict) and key in checkpoint:
            checkpoint = checkpoint[key]
            break
    return {k.removeprefix('module.'): v for k, v in checkpoint.items()}


def strict_load_problems(state_dict: dict, arch: str) -> list[str]:
    """Missing, unexpected or wrongly shaped keys when loading into our classifier."""
    num_classes = state_dict['head.classifier.weight'].shape[0]
    model = torch.nn.ModuleDict(
        dict(
            backbone=MobileFormer(arch, with_tokens=True),
            head=MobileFormerClsHead(num_classes, arch=arch)))
    expected = model.state_dict()
    problems = [f'missing: {k}' for k in expected if k not in state_dict]
    problems += [f'unexpected: {k}' for k in state_dict if k not in expected]
    problems += [
        f'shape of {k}: {tuple(v.shape)} in the file, {tuple(expected[k].shape)} in '
        f'{arch}' for k, v in state_dict.items()
        if k in expected and v.shape != expected[k].shape
    ]
    return problems


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    try:
        reference = load_reference_state_dict(args.src, args.allow_pickle)
    except Exception as error:  # noqa: BLE001  (report why the file did not load)
        print(f'cannot load {args.src}: {error}\nIf the file holds training state beyond '
              'tensors and you trust it, rerun with --allow-pickle.', file=sys.stderr)
        return 1
    converted, unmatched = convert_official_state_dict(reference, args.arch)
    print(f'{len(reference)} reference keys, {len(converted) - 1} converted, '
          f'{len(unmatched)} unmatched; added backbone.final_bridge_trained = 1 (a '
          'reference classifier trained its final Mobile->Former bridge)')
    problems = [f'unmatched reference key: {k}' for k in unmatched]
    if 'head.classifier.weight' in converted:
        problems += strict_load_problems(converted, args.arch)
    else:
        problems.append('no classifier.classifier.1.weight: not a reference classifier')
    if problems:
        print(f'conversion failed ({len(problems)} problems):', file=sys.stderr)
        print('\n'.join(f'  {p}' for p in problems), file=sys.stderr)
        return 1
    torch.save(dict(state_dict=converted), args.dst)
    print(f'wrote {args.dst} ({args.arch})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
