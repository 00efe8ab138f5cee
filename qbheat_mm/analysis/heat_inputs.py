"""The inputs of the heat-operator diagnostics: a model's weights, its feature maps of
images and its learned operator, read from a config and a checkpoint.

The measurements themselves are :mod:`qbheat_mm.analysis.heat_diagnostics` (tensors in,
numbers out); ``tools/analysis/heat_diagnostics.py`` joins the two.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from qbheat_mm import compat
from qbheat_mm.apis.reconstruct import load_rgb, resize_center_crop
from qbheat_mm.datasets.demo_photos import prepare_demo_photos
from qbheat_mm.models.utils.quarters import last_map
from qbheat_mm.models.necks.heat_extrapolation_neck import HEAT_MODES, HeatExtrapolationNeck
from qbheat_mm.utils.checkpoint import (CheckpointMismatchError, extract_backbone_state_dict,
                                        load_checkpoint_strict)
from qbheat_mm.utils.quiet import init_weights_quietly

from .heat_diagnostics import HeatOperator


def read_checkpoint(path: str) -> dict:
    """Read a checkpoint as every tool does (:func:`qbheat_mm.compat.safe_torch_load`).

    Tensors and what MMEngine Runner checkpoints hold load without running code from the
    file; anything else needs the user's opt-in (``--allow-pickle``,
    ``QBHEAT_ALLOW_PICKLE=1``).

    Raises:
        UnsafeCheckpointError: The file holds a type outside the allow-list and there was
            no opt-in; the message names the type and the opt-in.
    """
    return compat.safe_torch_load(path, map_location='cpu')


def load_weights(model: nn.Module, checkpoint: dict, prefix: Optional[str] = 'auto') -> dict:
    """Load ``model.backbone`` strictly, and a heat neck's A, B when the checkpoint has them.

    Args:
        model (nn.Module): A model with a ``backbone`` (and optionally a ``neck``).
        checkpoint (dict): A full checkpoint (weights under ``state_dict``) or a state
            dict, with ``backbone.*`` keys or an extracted backbone's bare keys.
        prefix (str, optional): Prefix of the backbone keys, see
            :func:`qbheat_mm.utils.checkpoint.resolve_prefix`.

    Returns:
        dict: ``prefix``, ``backbone_keys`` (how many were loaded) and ``operator``
        (``'loaded'`` or why there is none).
    """
    report = load_checkpoint_strict(model.backbone, checkpoint, prefix)
    info = dict(prefix=report.prefix, backbone_keys=report.loaded)
    neck = getattr(model, 'neck', None)
    try:
        neck_state, _ = extract_backbone_state_dict(checkpoint, 'neck.')
    except CheckpointMismatchError:
        neck_state = {}
    if not isinstance(neck, HeatExtrapolationNeck):
        info['operator'] = ('none: the config has no HeatExtrapolationNeck'
                            + (' (the checkpoint has neck.A, neck.B)' if 'A' in neck_state
                               else ''))
    elif not {'A', 'B'} <= set(neck_state):
        info['operator'] = 'none: the checkpoint has no neck.A, neck.B'
    else:
        load_checkpoint_strict(model, checkpoint, parts=('neck', ))
        info['operator'] = 'loaded'
    return info


def train_img_size(cfg) -> Optional[int]:
    """The square size the config trains at (its training crop or resize), or None."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset', {})
    while 'pipeline' not in dataset and 'dataset' in dataset:  # dataset wrappers
        dataset = dataset['dataset']
    for t in dataset.get('pipeline', []):
        size = dict(RandomResizedCrop='scale', CenterCrop='crop_size', RandomCrop='crop_size',
                    Resize='scale').get(t.get('type'))
        if size and size in t:
            value = t[size]
            return int(value if isinstance(value, int) else value[0])
    return None


def operator_step(mode: str, train_size: Optional[int], encoder_stride: int) -> int:
    """Cells one step of A covers: the quarter side at ``train_size`` for ``block``, else 1."""
    if mode != 'block':
        return 1
    if train_size is None:
        raise ValueError('cannot tell how many cells a block step covers: the config has no '
                         'training crop size; pass --operator-step')
    if train_size % (2 * encoder_stride):
        raise ValueError(f'training size {train_size} is not a multiple of 2 x '
                         f'encoder_stride = {2 * encoder_stride}')
    return train_size // (2 * encoder_stride)


def heat_operator(model: nn.Module, step: int) -> HeatOperator:
    """The learned operator of ``model.neck`` (a :class:`HeatExtrapolationNeck`)."""
    neck = model.neck
    if neck.mode not in HEAT_MODES:
        raise ValueError(f"the neck's mode {neck.mode!r} has no heat operator to diagnose "
                         f'(its quarters are independent projections); the diagnostics '
                         f'read the modes {HEAT_MODES}')
    return HeatOperator(neck.A.detach().double(), neck.B.detach().double(), neck.mode, step,
                        neck.proj)


def random_init(backbone: nn.Module) -> None:
    """Run ``backbone.init_weights()``: the random-backbone control. Seed torch before
    building the model, as some parameters keep their constructor's random values."""
    init_weights_quietly(backbone)


def demo_val_images(root: str = 'data/demo') -> list[str]:
    """The demo validation images (``DemoPhotoDataset``'s val split), generated if missing."""
    prepare_demo_photos(root)
    with open(osp.join(root, 'meta', 'val.txt')) as f:
        return [osp.join(root, 'val', line.split()[0]) for line in f if line.strip()]


@torch.no_grad()
def feature_maps(model: nn.Module, images: Sequence[str], img_size: int,
                 batch_size: int = 16, device: str = 'cpu') -> torch.Tensor:
    """The backbone's last map of each whole image, N x C x H x W (float32, CPU).

    Each image is resized (shorter side) and centre-cropped to ``img_size`` and goes
    through the model's own data preprocessor, as ``LoadImageFromFile`` would feed it.
    """
    model.to(device).eval()  # BatchNorm must use its running statistics
    out = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        rgb = [resize_center_crop(load_rgb(p), img_size) for p in batch]
        bgr = torch.from_numpy(np.stack(rgb)[..., ::-1].copy()).permute(0, 3, 1, 2)
        inputs = model.data_preprocessor(dict(inputs=bgr, data_samples=None), False)['inputs']
        out.append(last_map(model.backbone(inputs.to(device))).float().cpu())
    return torch.cat(out)
