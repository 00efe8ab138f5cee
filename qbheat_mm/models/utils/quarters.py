"""The hidden quarters of QB-Heat, in one place: the visible crop, the cells each quarter
holds, the mask of the hidden ones.

An image is split 2 x 2; the top-left quarter is visible, the other three are hidden
[paper]. On the grid of cells (one per position of the encoder's stride-s map; the full
map is 2h x 2w for an h x w visible map), cells are numbered row-major over the full map,
and the quarters are ordered top-left, top-right, bottom-left, bottom-right.
"""
from __future__ import annotations

from typing import Sequence, Tuple, Union

import torch

__all__ = ['QUARTERS', 'visible_quarter', 'image_quarters', 'hidden_mask',
           'decodes_visible', 'split_quarters', 'merge_quarters', 'last_map']

#: The quarters in the order used everywhere: visible first, then the three hidden ones.
QUARTERS = ('top_left', 'top_right', 'bottom_left', 'bottom_right')


def visible_quarter(x: torch.Tensor) -> torch.Tensor:
    """The top-left quarter of an N x C x H x W batch: what the encoder sees."""
    H, W = x.shape[-2:]
    return x[..., :H // 2, :W // 2]


def image_quarters(x: torch.Tensor) -> list:
    """The four quarters of a ... x H x W tensor, in :data:`QUARTERS` order."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    return [x[..., :h, :w], x[..., :h, w:], x[..., h:, :w], x[..., h:, w:]]


def hidden_mask(grid: Tuple[int, int], device=None, dtype=torch.float32) -> torch.Tensor:
    """1 x (gh * gw): 0 on the visible top-left quarter's cells, 1 on the hidden ones."""
    gh, gw = grid
    mask = torch.ones(gh, gw, device=device, dtype=dtype)
    mask[:gh // 2, :gw // 2] = 0
    return mask.reshape(1, gh * gw)


def decodes_visible(mask: Union[torch.Tensor, None], grid: Tuple[int, int]) -> bool:
    """Whether a cell mask (1 or N x gh * gw; None: every cell) asks for any cell of the
    visible quarter."""
    if mask is None:
        return True
    visible = hidden_mask(grid, mask.device, mask.dtype) == 0
    return bool(mask[..., visible[0]].any())


def split_quarters(x: torch.Tensor) -> torch.Tensor:
    """N x C x 2h x 2w map -> (4N) x (h * w) x C tokens, one sequence per quarter
    (quarters in order within each image, cells row-major within each quarter)."""
    N, C, H, W = x.shape
    h, w = H // 2, W // 2
    return x.reshape(N, C, 2, h, 2, w).permute(0, 2, 4, 3, 5, 1).reshape(4 * N, h * w, C)


def merge_quarters(tokens: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`split_quarters`: (4N) x (h * w) x D -> N x (2h * 2w) x D row-major."""
    H, W = grid
    h, w = H // 2, W // 2
    N, D = tokens.shape[0] // 4, tokens.shape[-1]
    return tokens.reshape(N, 2, 2, h, w, D).permute(0, 1, 3, 2, 4, 5).reshape(N, H * W, D)


def last_map(feats: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
    """A backbone's last output, which must be an N x C x h x w map."""
    z = feats[-1] if isinstance(feats, (tuple, list)) else feats
    if z.dim() != 4:
        raise ValueError('QB-Heat needs the backbone to end with an N x C x h x w map, '
                         f'got a tensor of shape {tuple(z.shape)} (with_tokens=True or a '
                         'pooled output?)')
    return z
