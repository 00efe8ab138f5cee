"""The light pixel decoder of QB-Heat: extrapolated feature map -> per-cell values [ours]."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.registry import MODELS

from ..utils.quarters import decodes_visible, hidden_mask, merge_quarters, split_quarters

SCOPES = ('quarter', 'global')


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
    """Decode the extrapolated feature map into per-cell values (pixels, statistics).

    Linear C -> D, fixed 2-D sin-cos position embeddings, ``depth`` pre-LN transformer
    blocks, LayerNorm, Linear D -> ``out_dims`` for every cell.

    ``scope='quarter'`` (default, [ours]): each of the four quarters of the map is decoded
    on its own. Attention runs only among the cells of one quarter, and a cell's position
    embedding is its position *inside* its quarter, the same in all four quarters. So the
    pixels of a masked cell depend on the visible quarter only through the features the
    heat operator put into that cell's quarter, and the decoder cannot tell which quarter
    it decodes: in ``block`` mode with A = B = 0 the three masked quarters decode to
    exactly what the visible quarter decodes to. ``depth=0`` makes it a per-cell decoder.

    ``scope='global'`` (ablation only; the project's first decoder): attention across
    all cells of the full map with absolute positions. It can read the visible cells
    directly and learn its own per-quarter mapping, so it bypasses the heat operator
    (with A and B frozen at zero it reached the same demo PSNR as with learned ones).

    Args:
        in_channels (int): Channels C of the extrapolated map (the neck's output).
        out_dims (int): Values per cell. :class:`QBHeat` fills it in from its head
            (p * p * 3 pixels, plus 2 statistics with ``norm_pix``).
        embed_dims (int): Decoder width D. Defaults to 256.
        depth (int): Number of transformer blocks. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (float): FFN hidden size / D. Defaults to 4.
        scope (str): ``'quarter'`` (default) or ``'global'``.
        stats_dims (int): How many of the ``out_dims`` values per cell, the last ones, are
            the cell's statistics. :class:`QBHeat` fills it in from its head (2 with
            ``norm_pix``, else 0).
        detach_stats (bool): Predict the statistics from detached features [ours, an
            ablation]: their loss then trains only the output layer's rows for them, and
            no gradient of it reaches the decoder's body, the neck or the encoder. The
            forward values are unchanged, so the reconstructions stay honest. Defaults to
            False.
        init_cfg (dict | list[dict], optional): Defaults to Xavier-uniform linears and
            unit LayerNorms, as MAE's decoder.
    """

    def __init__(self,
                 in_channels: int,
                 out_dims: Optional[int] = None,
                 embed_dims: int = 256,
                 depth: int = 4,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.,
                 scope: str = 'quarter',
                 stats_dims: int = 0,
                 detach_stats: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = (
                     dict(type='Xavier', layer='Linear', distribution='uniform'),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.))
                 ) -> None:
        super().__init__(init_cfg=list(init_cfg) if isinstance(init_cfg, tuple)
                         else init_cfg)
        if out_dims is None:
            raise ValueError('QBHeatDecoder needs out_dims (values per cell); inside QBHeat '
                             'it is filled in from the head, so leave it out of the config')
        if scope not in SCOPES:
            raise ValueError(f'scope must be one of {SCOPES}, got {scope!r}')
        if embed_dims % 4 or embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by 4 (sin-cos '
                             f'embedding) and by num_heads ({num_heads})')
        if not 0 <= stats_dims < out_dims:
            raise ValueError(f'stats_dims must be in [0, out_dims={out_dims}), got {stats_dims}')
        if detach_stats and not stats_dims:
            raise ValueError('detach_stats=True needs predicted statistics (the head\'s '
                             'norm_pix=True); without them there is nothing to detach')
        self.in_channels = in_channels
        self.out_dims = out_dims
        self.stats_dims = stats_dims
        self.detach_stats = detach_stats
        self.embed_dims = embed_dims
        self.scope = scope
        self.embed = nn.Linear(in_channels, embed_dims)
        self.blocks = nn.ModuleList([
            TransformerEncoderLayer(
                embed_dims=embed_dims,
                num_heads=num_heads,
                feedforward_channels=int(embed_dims * mlp_ratio))
            for _ in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dims)
        self.pred = nn.Linear(embed_dims, out_dims)
        # Fixed embeddings are derived data, not weights: cached per grid, never saved.
        self._pos_cache: Dict[Tuple[int, int], torch.Tensor] = {}

    def pos_embed(self, grid: Tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        """The 1 x (gh * gw) x D sin-cos embedding of a gh x gw grid."""
        if grid not in self._pos_cache:
            self._pos_cache[grid] = sincos_pos_embed_2d(grid, self.embed_dims)
        return self._pos_cache[grid].to(device=like.device, dtype=like.dtype)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decode.

        Args:
            x (torch.Tensor): The extrapolated map, N x C x gh x gw (gh, gw even).
            mask (torch.Tensor, optional): The cells wanted (1 or N x gh * gw, the
                algorithm's loss mask); None (default): every cell. When it wants no cell
                of the visible quarter (a loss over the hidden quarters), that quarter's
                cells come back as zeros: in ``'quarter'`` scope it is then never decoded,
                which saves a quarter of the decoder's work and changes nothing in the
                other quarters (each is decoded on its own); in ``'global'`` scope every
                cell is context for every other, so all are still decoded and only the
                output is zeroed.

        Returns:
            torch.Tensor: N x (gh * gw) x out_dims, cells row-major over the full map.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'QBHeatDecoder expects N x {self.in_channels} x gh x gw, '
                             f'got shape {tuple(x.shape)}')
        grid = (x.shape[2], x.shape[3])
        decode_visible = decodes_visible(mask, grid)
        if self.scope == 'global':
            out = self._decode(x.flatten(2).transpose(1, 2), grid)
            if not decode_visible:
                out = out * hidden_mask(grid, out.device, out.dtype)[..., None]
            return out
        if grid[0] % 2 or grid[1] % 2:
            raise ValueError(f'a {grid[0]} x {grid[1]} map has no four equal quarters')
        quarter_grid = (grid[0] // 2, grid[1] // 2)
        tokens = split_quarters(x)
        if decode_visible:
            return merge_quarters(self._decode(tokens, quarter_grid), grid)
        N, L = x.shape[0], tokens.shape[1]
        masked = tokens.reshape(N, 4, L, self.in_channels)[:, 1:]
        out = self._decode(masked.reshape(3 * N, L, self.in_channels), quarter_grid)
        out = out.reshape(N, 3, L, self.out_dims)
        out = torch.cat([out.new_zeros(N, 1, L, self.out_dims), out], dim=1)
        return merge_quarters(out.reshape(4 * N, L, self.out_dims), grid)

    def _decode(self, tokens: torch.Tensor, pos_grid: Tuple[int, int]) -> torch.Tensor:
        """B x (gh * gw) x C tokens of a gh x gw grid -> B x (gh * gw) x out_dims."""
        tokens = self.embed(tokens)
        tokens = tokens + self.pos_embed(pos_grid, tokens)
        for block in self.blocks:
            tokens = block(tokens)
        features = self.norm(tokens)
        out = self.pred(features)
        if not self.detach_stats:
            return out
        k = self.stats_dims  # the same values, with the statistics' gradient stopped below
        stats = nn.functional.linear(features.detach(), self.pred.weight[-k:],
                                     self.pred.bias[-k:])
        return torch.cat([out[..., :-k], stats], dim=-1)

    def extra_repr(self) -> str:
        return (f'scope={self.scope!r}, out_dims={self.out_dims}, '
                f'stats_dims={self.stats_dims}, detach_stats={self.detach_stats}')
