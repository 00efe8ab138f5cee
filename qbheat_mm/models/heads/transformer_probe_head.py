"""The "tran-1" non-linear probe: one transformer block over the frozen feature map."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS


def _norm_tokens(norm: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Apply a per-channel norm to N x L x C tokens (BatchNorm1d wants channels second)."""
    return norm(tokens.transpose(1, 2)).transpose(1, 2)


@MODELS.register_module()
class TransformerProbeHead(ClsHead):
    """Classify a frozen backbone's last feature map with a small transformer.

    The cells of the map (7 x 7 = 49 for Mobile-Former at 224 px) become tokens:
    Linear ``in_channels -> embed_dims``, ``depth`` pre-LN transformer blocks, mean pool
    over the tokens, LayerNorm, Linear to the classes (QB-Heat paper, "tran-1"). There is
    no position embedding, as in the paper's description; the mean pool makes the head
    depend on the set of cells.

    ``norm_input=True`` puts a BatchNorm without affine on the channels of the incoming
    tokens first, the MAE linear-probe normalisation. Off by default (the paper's head);
    turn it on when comparing backbones whose feature scales differ by orders of
    magnitude (a randomly initialised Mobile-Former's expanded map is ~30x smaller than a
    trained one's and nearly constant across images, which stalls this head).

    Input: the backbone's tuple. The last 4-D (N, C, H, W) tensor is the map. A trailing
    3-D (N, T, D) tensor holds Mobile-Former's global tokens (``with_tokens=True``); they
    are appended, projected by a separate Linear ``token_dims -> embed_dims``, only when
    ``use_global_tokens=True``.

    The global tokens come out of Mobile-Former's final Mobile -> Former bridge, which
    QB-Heat and MoCo-v2 pre-training never train (only supervised classifiers do). The
    backbone, which alone knows its weights' history, checks it: loading a checkpoint with
    an untrained bridge into a frozen ``MobileFormer(with_tokens=True)`` raises, naming the
    fix and the opt-out (``untrained_bridge='warn'``).

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the feature map.
        embed_dims: Token width. Defaults to 512.
        depth: Number of transformer blocks. Defaults to 1.
        num_heads: Attention heads. Defaults to 8.
        mlp_ratio: Hidden width of the MLP over ``embed_dims``. Defaults to 4.
        use_global_tokens: Append the backbone's global tokens. Defaults to False.
        token_dims: Width of the global tokens; required with ``use_global_tokens``
            and refused without it.
        norm_input: Standardise the input channels with a non-affine BatchNorm.
            Defaults to False.
        drop_rate: Dropout in attention and MLP. Defaults to 0.
        init_cfg: None (default) means truncated normal (std 0.02) Linear layers and
            unit LayerNorms.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of :class:`ClsHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 embed_dims: int = 512,
                 depth: int = 1,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.,
                 use_global_tokens: bool = False,
                 token_dims: Optional[int] = None,
                 norm_input: bool = False,
                 drop_rate: float = 0.,
                 init_cfg: Optional[dict | list] = None,
                 **kwargs) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
                        dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]
        super().__init__(init_cfg=init_cfg, **kwargs)
        for name, value in (('num_classes', num_classes), ('in_channels', in_channels),
                            ('embed_dims', embed_dims), ('depth', depth)):
            if value <= 0:
                raise ValueError(f'{name} must be a positive integer, got {value}')
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by '
                             f'num_heads ({num_heads})')
        if use_global_tokens and not token_dims:
            raise ValueError('use_global_tokens=True needs token_dims (the width of the '
                             "backbone's global tokens, MobileFormer.token_dims)")
        if token_dims is not None and not use_global_tokens:
            raise ValueError(f'token_dims={token_dims} does nothing without '
                             'use_global_tokens=True: set both or neither')
        self.num_classes = num_classes
        self.use_global_tokens = use_global_tokens

        self.cell_norm = (nn.BatchNorm1d(in_channels, affine=False, eps=1e-6)
                          if norm_input else nn.Identity())
        self.cell_proj = nn.Linear(in_channels, embed_dims)
        self.token_norm, self.token_proj = None, None
        if use_global_tokens:
            self.token_norm = (nn.BatchNorm1d(token_dims, affine=False, eps=1e-6)
                               if norm_input else nn.Identity())
            self.token_proj = nn.Linear(token_dims, embed_dims)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                embed_dims, num_heads, dim_feedforward=int(embed_dims * mlp_ratio),
                dropout=drop_rate, activation='gelu', layer_norm_eps=1e-6,
                batch_first=True, norm_first=True) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dims, eps=1e-6)
        self.fc = nn.Linear(embed_dims, num_classes)

    def _split_inputs(self, feats: Sequence[torch.Tensor]
                      ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The last feature map and, if the backbone returned them, the global tokens."""
        tokens = feats[-1] if feats[-1].dim() == 3 else None
        maps = [f for f in feats if f.dim() == 4]
        if not maps:
            raise ValueError('TransformerProbeHead needs an N x C x H x W feature map, got '
                             f'shapes {[tuple(f.shape) for f in feats]}')
        if self.use_global_tokens and tokens is None:
            raise ValueError('use_global_tokens=True but the backbone returned no global '
                             'tokens: build MobileFormer with with_tokens=True')
        return maps[-1], tokens

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Pooled, normalised token features (N x embed_dims)."""
        feat_map, global_tokens = self._split_inputs(feats)
        cells = feat_map.flatten(2).transpose(1, 2)  # N x HW x C
        x = self.cell_proj(_norm_tokens(self.cell_norm, cells))
        if self.use_global_tokens:
            tokens = self.token_proj(_norm_tokens(self.token_norm, global_tokens))
            x = torch.cat([x, tokens], dim=1)  # N x (HW + T) x D
        for block in self.blocks:
            x = block(x)
        return self.norm(x.mean(dim=1))

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Class scores (N x num_classes)."""
        return self.fc(self.pre_logits(feats))
