"""Mobile-Former backbone (Chen et al., CVPR 2022, arXiv 2108.05895) for OpenMMLab.

The seven published variants are data (``ARCH_SETTINGS`` in
:mod:`qbheat_mm.models.utils.mobile_former_arch`); this one builder turns a table into
modules. The backbone ends, like MMPretrain's MobileNetV3, with the expanded stride-32 map
(final Mobile -> Former bridge, 1x1 conv to 6x channels, BN, ReLU6); the pooling and the two
fully connected layers form :class:`MobileFormerClsHead`.

The final Mobile -> Former bridge only updates the global tokens, so it runs only with
``with_tokens=True``. Without it, its parameters are frozen (DDP with
``find_unused_parameters=False`` fails on trainable parameters that get no gradient) but
kept, so that every checkpoint has the same keys; a persistent buffer records whether the
bridge was ever trained, and loading a checkpoint whose bridge is untrained into a backbone
that returns tokens fails or warns (see :class:`MobileFormer`).
"""
import logging
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..utils.mobile_former_arch import (EXPAND_RATIO, MAX_FROZEN_STAGES, NUM_OUT_INDICES,
                                        TAP_STRIDES, block_strides, get_arch)
from .mobile_former_blocks import (ChannelShuffle, LiteBottleneck, MFBlock,
                                   MFDownBlock, MobileToFormer, conv_bn)

# Values of the persistent buffer BRIDGE_FLAG: was the final bridge ever trained?
# UNKNOWN marks checkpoints saved before the flag existed (they load with it filled in).
BRIDGE_UNTRAINED, BRIDGE_TRAINED, BRIDGE_UNKNOWN = 0, 1, -1
BRIDGE_FLAG = 'final_bridge_trained'
BRIDGE_STATUS = {BRIDGE_UNTRAINED: 'untrained', BRIDGE_TRAINED: 'trained',
                 BRIDGE_UNKNOWN: 'unknown'}
UNTRAINED_BRIDGE_ACTIONS = ('error', 'warn')


@MODELS.register_module()
class MobileFormer(BaseModule):
    """Mobile-Former backbone: a MobileNet and a small transformer joined by two bridges.

    Args:
        arch (str | dict): '26m', '52m', '96m', '151m', '214m', '294m', '508m', or a
            custom table with the keys of ``ARCH_SETTINGS`` entries. Defaults to '294m'.
        out_indices (int | Sequence[int]): Outputs, in 0..4: 0..3 are the last blocks at
            stride 4, 8, 16, 32; 4 is the expanded stride-32 map. Defaults to (4, ).
        frozen_stages (int): -1 freezes nothing, 0 the tokens and the stem, k in 1..4
            additionally every block up to the one tapped by out index k - 1, 5 everything
            (final bridge and expansion too). The final bridge is frozen at any value when
            ``with_tokens=False``. Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training.
            Defaults to False.
        drop_path_rate (float): Largest drop-path rate; block i of n gets
            ``rate * (i + 1) / n``, the final bridge the full rate. Defaults to 0.
        with_tokens (bool): Append the final global tokens (``N x T x d``, after the final
            Mobile -> Former bridge) as the last element of the output tuple. Without
            tokens the bridge does not run and its parameters are frozen. Defaults to False.
        untrained_bridge (str): What loading weights does when they come with an untrained
            (or unknown) final bridge while ``with_tokens=True`` and the bridge is frozen:
            ``'error'`` (default) raises, ``'warn'`` only logs (the opt-out, e.g. for a
            checkpoint known to be trained that predates the flag). A trainable bridge
            always only warns: it will be trained from its loaded weights.
        init_cfg (dict | list[dict], optional): Initialisation config. None means the
            reference init: conv kaiming-normal fan_out, BN (1, 0), Linear N(0, 0.01) with
            zero bias, tokens N(0, 1). Defaults to None.

    The final bridge and its record: QB-Heat and MoCo-v2 read the feature maps only, so
    they never train ``mobile_to_former``; a supervised classifier with
    :class:`MobileFormerClsHead` does. The bridge stays in the module either way (same
    state-dict keys for every checkpoint, so all of them load strictly into any config)
    and the persistent buffer ``final_bridge_trained`` records its status: 0 untrained, 1
    trained (set by any forward in training mode with grad enabled and a trainable
    bridge), -1 unknown (a checkpoint saved before the buffer existed). Loading is where
    the status becomes known, so that is where it is checked: global tokens from a frozen
    bridge that was never trained would feed a probe random features behind a "fully
    loaded" backbone. A randomly initialised backbone (no weights loaded) is not checked.
    """

    def __init__(self,
                 arch: Union[str, dict] = '294m',
                 out_indices: Union[int, Sequence[int]] = (4, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.,
                 with_tokens: bool = False,
                 untrained_bridge: str = 'error',
                 init_cfg: Union[dict, list, None] = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d', mode='fan_out',
                     nonlinearity='relu', distribution='normal'),
                dict(type='Constant', layer='BatchNorm2d', val=1, bias=0),
                dict(type='Normal', layer='Linear', std=0.01, bias=0),
            ]
        super().__init__(init_cfg=init_cfg)
        self.arch_settings = get_arch(arch)
        self.out_indices = self._check_out_indices(out_indices)
        if not (isinstance(frozen_stages, int)
                and -1 <= frozen_stages <= MAX_FROZEN_STAGES):
            raise ValueError(f'frozen_stages must be an int in [-1, {MAX_FROZEN_STAGES}] '
                             f'(-1 nothing, 0 tokens + stem, 1..4 blocks up to out index '
                             f'0..3, 5 everything), got {frozen_stages!r}.')
        self.frozen_stages = frozen_stages
        if untrained_bridge not in UNTRAINED_BRIDGE_ACTIONS:
            raise ValueError(f'untrained_bridge must be one of {UNTRAINED_BRIDGE_ACTIONS}, '
                             f'got {untrained_bridge!r}.')
        self.norm_eval = norm_eval
        self.with_tokens = with_tokens
        self.untrained_bridge = untrained_bridge

        cfg = self.arch_settings
        groups = cfg['groups']
        self.num_tokens, self.token_dims = cfg['num_tokens'], cfg['token_dims']
        self.tokens = nn.Parameter(torch.randn(self.num_tokens, self.token_dims))
        self.stem = conv_bn(3, cfg['stem_channels'], 3, stride=2)
        self.blocks = nn.ModuleList()
        in_channels, num_blocks = cfg['stem_channels'], len(cfg['blocks'])
        for i, (kind, out_channels, hidden, stride) in enumerate(cfg['blocks']):
            self.blocks.append(
                self._make_block(kind, in_channels, out_channels, hidden, stride, groups,
                                 drop_path_rate * (i + 1) / num_blocks))
            in_channels = out_channels
        self.mobile_to_former = MobileToFormer(
            in_channels, self.token_dims, drop_path=drop_path_rate)
        self.register_buffer(BRIDGE_FLAG, torch.tensor(BRIDGE_UNTRAINED))
        # The reference shuffles before (not after) the grouped expansion conv.
        self.expand_shuffle = ChannelShuffle(groups) if groups > 1 else nn.Identity()
        self.expand = conv_bn(
            in_channels, EXPAND_RATIO * in_channels, 1, groups=groups)

        strides = block_strides(cfg['blocks'])
        # Block index of each tap: the last block at stride 4, 8, 16, 32.
        self.tap_blocks = tuple(
            max(i for i, s in enumerate(strides) if s == tap) for tap in TAP_STRIDES)
        tap_channels = [cfg['blocks'][i][1] for i in self.tap_blocks]
        all_channels = tap_channels + [EXPAND_RATIO * in_channels]
        self.out_channels = tuple(all_channels[i] for i in self.out_indices)
        self._freeze_stages()

    def _make_block(self, kind: str, in_channels: int, out_channels: int,
                    hidden: Union[int, tuple], stride: int, groups: int,
                    drop_path: float) -> nn.Module:
        if kind == 'lite':
            # The reference applies no drop path to the lite bottleneck.
            return LiteBottleneck(in_channels, out_channels, hidden, stride, groups)
        block = MFBlock if kind == 'mf' else MFDownBlock
        return block(in_channels, out_channels, hidden, self.token_dims, groups,
                     drop_path)

    @staticmethod
    def _check_out_indices(out_indices: Union[int, Sequence[int]]) -> tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        valid = list(range(NUM_OUT_INDICES))
        if (not isinstance(out_indices, (list, tuple)) or not out_indices
                or any(i not in valid or isinstance(i, bool) for i in out_indices)
                or len(set(out_indices)) != len(out_indices)):
            raise ValueError(
                f'out_indices must be distinct values from {valid} (0..3 = stride 4, 8, '
                f'16, 32; 4 = expanded stride-32 map), got {out_indices!r}.')
        return tuple(sorted(out_indices))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Features at ``out_indices`` (NCHW), then the tokens if ``with_tokens``."""
        if x.dim() != 4:
            raise ValueError('MobileFormer expects an N x C x H x W image batch, got a '
                             f'{x.dim()}-D tensor of shape {tuple(x.shape)}.')
        tokens = self.tokens.expand(x.shape[0], -1, -1)
        x = F.relu6(self.stem(x))
        taps = {b: i for i, b in enumerate(self.tap_blocks) if i in self.out_indices}
        outs = []
        for i, block in enumerate(self.blocks):
            x, tokens = block(x, tokens)
            if i in taps:
                outs.append(x)
        if NUM_OUT_INDICES - 1 in self.out_indices:
            outs.append(F.relu6(self.expand(self.expand_shuffle(x))))
        if self.with_tokens:
            # The final bridge only updates the tokens, so it runs only when they are asked for.
            outs.append(self.mobile_to_former(x, tokens))
            if self.training and torch.is_grad_enabled() and self.bridge_trainable:
                self.final_bridge_trained.fill_(BRIDGE_TRAINED)
        return tuple(outs)

    @property
    def bridge_trainable(self) -> bool:
        """Whether any parameter of the final bridge requires grad."""
        return any(p.requires_grad for p in self.mobile_to_former.parameters())

    @property
    def bridge_status(self) -> str:
        """``'trained'``, ``'untrained'`` or ``'unknown'`` (see the class docstring)."""
        return BRIDGE_STATUS[int(self.final_bridge_trained)]

    def fill_missing_state(self, state_dict: dict, prefix: str = '') -> list[str]:
        """Add the keys older checkpoints lack, in place; return them.

        Only the bridge flag: checkpoints saved before it existed get ``-1`` (unknown), so
        that they keep loading strictly. ``load_backbone_checkpoint`` calls this before
        its strict key comparison, ``load_state_dict`` through ``_load_from_state_dict``.
        """
        key = prefix + BRIDGE_FLAG
        if key in state_dict:
            return []
        state_dict[key] = torch.tensor(BRIDGE_UNKNOWN)
        return [key]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs) -> None:
        """Fill in the bridge flag of older checkpoints, load, then check the bridge."""
        self.fill_missing_state(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
        if self.bridge_status == 'unknown' and not self.with_tokens:
            print_log(f'MobileFormer: the checkpoint has no {prefix}{BRIDGE_FLAG} (saved '
                      'before qbheat_mm recorded whether the final Mobile->Former bridge '
                      'was trained); its status is "unknown". It does not matter here: '
                      'with_tokens=False does not run the bridge.', logger='current')
        self._check_loaded_bridge(prefix)

    def _check_loaded_bridge(self, prefix: str) -> None:
        """Raise or warn when tokens would come from an untrained final bridge."""
        status = self.bridge_status
        if not self.with_tokens or status == 'trained':
            return
        if status == 'unknown':
            status = (f'of unknown status, counted as untrained (the checkpoint has no '
                      f'{prefix}{BRIDGE_FLAG}: it was saved before qbheat_mm recorded it)')
        what = (f'the loaded final Mobile->Former bridge ({prefix}mobile_to_former.*) is '
                f'{status}. QB-Heat and MoCo-v2 pre-training never run it; only supervised '
                'MobileFormerClsHead training does.')
        if self.bridge_trainable:
            print_log(f'MobileFormer(with_tokens=True): {what} It is trainable here, so this '
                      'run trains it from those weights; the global tokens are not '
                      'pre-trained features.', logger='current', level=logging.WARNING)
            return
        message = (
            f'MobileFormer(with_tokens=True) returns the global tokens, but {what} It is '
            'frozen here, so the tokens (TransformerProbeHead use_global_tokens, '
            'MobileFormerClsHead) would come from weights nobody trained. Fix: use the '
            'feature map only (model.backbone.with_tokens=False, '
            'model.head.use_global_tokens=False), a checkpoint with a trained bridge (a '
            'supervised classifier), or unfreeze the bridge (frozen_stages <= 4). Opt out '
            "knowingly with model.backbone.untrained_bridge='warn'.")
        if self.untrained_bridge == 'error':
            raise RuntimeError(message)
        print_log(message, logger='current', level=logging.WARNING)

    def _stage_parts(self, stage: int) -> list[nn.Module]:
        """Modules frozen by ``frozen_stages >= stage`` (tokens are handled separately)."""
        if stage == 0:
            return [self.stem]
        if stage == MAX_FROZEN_STAGES:
            return [self.mobile_to_former, self.expand]
        first = self.tap_blocks[stage - 2] + 1 if stage > 1 else 0
        return list(self.blocks[first:self.tap_blocks[stage - 1] + 1])

    def _freeze_stages(self) -> None:
        if not self.with_tokens:
            # Not run without tokens: a trainable parameter without gradient breaks DDP.
            for param in self.mobile_to_former.parameters():
                param.requires_grad = False
        if self.frozen_stages >= 0:
            self.tokens.requires_grad = False
        for stage in range(self.frozen_stages + 1):
            for module in self._stage_parts(stage):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'MobileFormer':
        """Re-apply freezing and ``norm_eval``: the Runner calls ``train()`` every epoch."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
