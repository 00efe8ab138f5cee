"""The light pixel decoder of QB-Heat: full feature map -> per-cell pixels [ours, MAE-style]."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.registry import MODELS


def sincos_pos_embed_2d(grid: Tuple[int, int], dims: int,
                        temperature: float = 10000.) -> torch.Tensor:
    """Fixed 2-D sin-cos embedding of a gh x gw grid, 1 x (gh * gw) x dims, row-major.

    A quarter of the dimensions each: sin(x w_k), cos(x w_k), sin(y w_k), cos(y w_k) with
    w_k = temperature^(-k / (dims / 4)), x the column and y the row of the cell. Written
    here rather than reusing MMPretrain's square-grid helper, whose cell order is only
    right for square grids.
    """
    gh, gw = grid
    quarter = dims // 4
    omega = temperature**(-torch.arange(quarter, dtype=torch.float32) / quarter)
    ys, xs = torch.meshgrid(torch.arange(gh, dtype=torch.float32),
                            torch.arange(gw, dtype=torch.float32), indexing='ij')
    x = xs.reshape(-1, 1) * omega
    y = ys.reshape(-1, 1) * omega
    return torch.cat([x.sin(), x.cos(), y.sin(), y.cos()], dim=1)[None]


@MODELS.register_module()
class QBHeatDecoder(BaseModule):
    """Decode the extrapolated feature map into pixels, one p x p cell per position.

    Linear C -> D, plus fixed 2-D sin-cos position embeddings over the 2h x 2w grid
    (built for the grid actually seen and cached, so any valid image size works),
    ``depth`` pre-LN transformer blocks, LayerNorm, Linear D -> p * p * 3.

    Args:
        in_channels (int): Channels C of the extrapolated map (the neck's output).
        embed_dims (int): Decoder width D. Defaults to 256.
        depth (int): Number of transformer blocks. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (float): FFN hidden size / D. Defaults to 4.
        patch_size (int): Pixel cell size p (the encoder's output stride).
            Defaults to 32.
        out_channels (int): Image channels. Defaults to 3.
        init_cfg (dict | list[dict], optional): Defaults to Xavier-uniform linears and
            unit LayerNorms, as MAE's decoder.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int = 256,
                 depth: int = 4,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.,
                 patch_size: int = 32,
                 out_channels: int = 3,
                 init_cfg: Optional[Union[dict, List[dict]]] = (
                     dict(type='Xavier', layer='Linear', distribution='uniform'),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.))
                 ) -> None:
        super().__init__(init_cfg=list(init_cfg) if isinstance(init_cfg, tuple)
                         else init_cfg)
        if embed_dims % 4 or embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by 4 (sin-cos '
                             f'embedding) and by num_heads ({num_heads})')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.embed = nn.Linear(in_channels, embed_dims)
        self.blocks = nn.ModuleList([
            TransformerEncoderLayer(
                embed_dims=embed_dims,
                num_heads=num_heads,
                feedforward_channels=int(embed_dims * mlp_ratio))
            for _ in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dims)
        self.pred = nn.Linear(embed_dims, patch_size * patch_size * out_channels)
        # Fixed embeddings are derived data, not weights: cached per grid, never saved.
        self._pos_cache: Dict[Tuple[int, int], torch.Tensor] = {}

    def pos_embed(self, grid: Tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        """The 1 x (gh * gw) x D sin-cos embedding of a gh x gw grid."""
        if grid not in self._pos_cache:
            self._pos_cache[grid] = sincos_pos_embed_2d(grid, self.embed_dims)
        return self._pos_cache[grid].to(device=like.device, dtype=like.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Decode.

        Args:
            x (torch.Tensor): The extrapolated map, N x C x gh x gw.

        Returns:
            torch.Tensor: Cell pixels, N x (gh * gw) x (p * p * 3), row-major cells.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'QBHeatDecoder expects N x {self.in_channels} x gh x gw, '
                             f'got shape {tuple(x.shape)}')
        grid = (x.shape[2], x.shape[3])
        tokens = self.embed(x.flatten(2).transpose(1, 2))
        tokens = tokens + self.pos_embed(grid, tokens)
        for block in self.blocks:
            tokens = block(tokens)
        return self.pred(self.norm(tokens))
