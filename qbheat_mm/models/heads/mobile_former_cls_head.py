"""The reference Mobile-Former classification head (pool, concat token 0, two FC layers)."""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from torch import nn

from ..utils.mobile_former_arch import EXPAND_RATIO, get_arch


@MODELS.register_module()
class MobileFormerClsHead(ClsHead):
    """Global average pool -> h_swish, concat token 0, Linear -> BN1d -> h_swish ->
    Dropout -> Linear.

    It reads the last two backbone outputs: the expanded stride-32 map and the global
    tokens, i.e. ``MobileFormer(with_tokens=True, out_indices=(..., 4))``.

    Token 0 comes out of the backbone's final Mobile -> Former bridge, which QB-Heat and
    MoCo-v2 checkpoints never train. Fine-tuning one (trainable bridge) logs a warning
    when the checkpoint loads; a frozen untrained bridge raises (see ``MobileFormer``,
    ``untrained_bridge``). Supervised checkpoints from this head have a trained bridge.

    Give either ``arch`` (the widths come from the backbone's table) or all of
    ``in_channels``, ``token_dims`` and ``hidden_channels``.

    Args:
        num_classes (int): Number of classes.
        arch (str | dict, optional): A Mobile-Former arch name or table with
            ``cls_hidden_channels``. Defaults to None.
        in_channels (int, optional): Channels of the expanded map (6 x the last block's).
        token_dims (int, optional): Token dimension ``d``.
        hidden_channels (int, optional): Width of the hidden FC layer.
        dropout (float): Dropout before the last Linear (0.3 for 294M). Defaults to 0.
        init_cfg (dict | list[dict]): Reference init: Linear N(0, 0.01), zero bias;
            BatchNorm1d keeps PyTorch defaults.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of :class:`ClsHead`.
    """

    def __init__(self,
                 num_classes: int,
                 arch: Union[str, dict, None] = None,
                 in_channels: Optional[int] = None,
                 token_dims: Optional[int] = None,
                 hidden_channels: Optional[int] = None,
                 dropout: float = 0.,
                 init_cfg: Union[dict, list] = dict(
                     type='Normal', layer='Linear', std=0.01, bias=0),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        widths = (in_channels, token_dims, hidden_channels)
        if arch is not None:
            if any(w is not None for w in widths):
                raise ValueError('MobileFormerClsHead: give either arch or in_channels, '
                                 'token_dims and hidden_channels, not both.')
            table = get_arch(arch)
            if 'cls_hidden_channels' not in table:
                raise ValueError('MobileFormerClsHead: the arch table has no '
                                 "'cls_hidden_channels'; add it or pass hidden_channels "
                                 'explicitly.')
            in_channels = EXPAND_RATIO * table['blocks'][-1][1]
            token_dims = table['token_dims']
            hidden_channels = table['cls_hidden_channels']
        elif any(w is None for w in widths):
            raise ValueError('MobileFormerClsHead: give arch, or all of in_channels, '
                             f'token_dims and hidden_channels (got {widths}).')
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}.')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.token_dims = token_dims
        self.fc = nn.Linear(in_channels + token_dims, hidden_channels)
        self.bn = nn.BatchNorm1d(hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_channels, num_classes)

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The hidden features (after BN1d and h_swish), before dropout and the last FC."""
        if (not isinstance(feats, (tuple, list)) or len(feats) < 2 or feats[-1].dim() != 3
                or feats[-2].dim() != 4):
            shapes = [tuple(f.shape) for f in feats] if isinstance(
                feats, (tuple, list)) else type(feats).__name__
            raise ValueError(
                'MobileFormerClsHead needs the expanded map (N x C x H x W) and the global '
                'tokens (N x T x d) as the last two features: build MobileFormer with '
                f'with_tokens=True and out_indices ending in 4. Got {shapes}.')
        x, tokens = feats[-2], feats[-1]
        if x.shape[1] != self.in_channels or tokens.shape[-1] != self.token_dims:
            raise ValueError(
                f'MobileFormerClsHead expects a {self.in_channels}-channel map and '
                f'{self.token_dims}-d tokens, got {x.shape[1]} and {tokens.shape[-1]}.')
        pooled = F.hardswish(F.adaptive_avg_pool2d(x, 1).flatten(1))
        x = self.fc(torch.cat([pooled, tokens[:, 0]], dim=1))
        return F.hardswish(self.bn(x))

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Class scores, ``N x num_classes``."""
        return self.classifier(self.dropout(self.pre_logits(feats)))
