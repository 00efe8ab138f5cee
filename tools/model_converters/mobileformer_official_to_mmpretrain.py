"""Convert a reference Mobile-Former ImageNet checkpoint (AAboys/MobileFormer) to ours.

    python tools/model_converters/mobileformer_official_to_mmpretrain.py SRC DST --arch 294m

The output is ``{'state_dict': {backbone.*, head.*}}`` for an MMPretrain ``ImageClassifier``
with ``MobileFormer(arch, with_tokens=True)`` and ``MobileFormerClsHead(arch=arch)``; it
loads with ``torch.load(DST, weights_only=True)``, with ``tools/test.py CONFIG DST`` and,
for the backbone alone, with ``init_cfg=dict(type='StrictPretrained', checkpoint=DST,
prefix='backbone.')``. Every key must match: the tool prints the counts and exits with
status 1, listing the keys, when any reference key is left over or the converted weights
do not load strictly into the model.
"""
import argparse
import sys
from typing import Optional

import torch

from qbheat_mm.models.backbones.mobile_former import ARCH_SETTINGS, MobileFormer
from qbheat_mm.models.backbones.mobile_former_convert import convert_official_state_dict
from qbheat_mm.models.heads.mobile_former_cls_head import MobileFormerClsHead


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='reference checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', required=True, choices=list(ARCH_SETTINGS),
                        help='the variant the checkpoint belongs to')
    parser.add_argument(
        '--allow-pickle', action='store_true',
        help='load a checkpoint that holds more than tensors (e.g. timm training state '
        'with argparse.Namespace) with weights_only=False; this runs code from the file, '
        'so use it only for files you trust')
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
