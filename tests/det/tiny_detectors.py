"""Tiny Mobile-Former pieces for the detection tests: an arch table, a checkpoint of it,
and the real detection configs shrunk to it so they build and run in seconds."""
from pathlib import Path

import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
DET_CONFIGS = REPO / 'configs' / 'detection'

# Strides 4 / 8 / 16 / 32 after the stride-2 stem; out channels (8, 16, 16, 32, 192).
TINY_ARCH = dict(stem_channels=8, num_tokens=2, token_dims=16,
                 blocks=[('lite', 8, 16, 2), ('down', 16, (16, 32), 2),
                         ('down', 16, (32, 32), 2), ('down', 32, (32, 64), 2)])


def shrink_to_tiny(cfg: Config, checkpoint=None) -> Config:
    """Swap the config's Mobile-Former-294M for :data:`TINY_ARCH` (necks follow its
    channels) and make the detector heads small; everything else stays as written."""
    from qbheat_mm.models.backbones import MobileFormer

    model = cfg.model
    model.backbone.arch = TINY_ARCH
    model.backbone.init_cfg.checkpoint = checkpoint
    channels = MobileFormer(arch=TINY_ARCH, out_indices=model.backbone.out_indices).out_channels
    model.neck.in_channels = list(channels)
    if model.type.endswith('DETR'):  # DETR, ConditionalDETR
        model.num_queries = model.test_cfg.max_per_img = 10
        for coder in (model.encoder, model.decoder):
            coder.num_layers = 1
            coder.layer_cfg.ffn_cfg.feedforward_channels = 64
    else:
        model.neck.out_channels = model.bbox_head.in_channels = 32
        model.bbox_head.feat_channels = 32
        model.bbox_head.stacked_convs = 1
    return cfg


def save_tiny_pretrain_checkpoint(path: Path, seed: int = 0) -> dict:
    """A QB-Heat-like checkpoint of the tiny backbone: MMEngine layout, 'backbone.' keys
    with random (non-default) weights and BN statistics, plus decoder keys to be ignored."""
    from qbheat_mm.models.backbones import MobileFormer

    torch.manual_seed(seed)
    backbone = MobileFormer(arch=TINY_ARCH, out_indices=(1, 2, 4))
    state = backbone.state_dict()
    for key, value in state.items():
        if value.is_floating_point():
            value.copy_(torch.rand_like(value) + 0.5 if 'running_var' in key
                        else torch.randn_like(value) * 0.1)
    weights = {f'backbone.{k}': v.clone() for k, v in state.items()}
    weights['neck.decoder.weight'] = torch.zeros(3)
    torch.save(dict(meta=dict(epoch=1), state_dict=weights), path)
    return {k: v.clone() for k, v in state.items()}
