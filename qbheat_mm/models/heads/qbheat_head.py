"""The QB-Heat head: owns the pixel target, the quarter mask and the loss [ours, MAE-style]."""
from typing import Tuple

import torch
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS

LOSS_REGIONS = ('masked', 'all')


@MODELS.register_module()
class QBHeatHead(BaseModule):
    """Per-cell pixel target and reconstruction loss for QB-Heat.

    The image is split into p x p cells (p = the encoder stride, so one cell per
    position of the extrapolated feature map). With ``norm_pix`` each cell is
    normalised by its own mean and variance, as MAE does. The loss is MMPretrain's
    ``PixelReconstructionLoss`` over the cells of the three masked quarters
    (``loss_region='masked'``) or over every cell (``'all'``).

    Cells are flattened row-major over the gh x gw grid and each cell as (row, column,
    channel), matching :class:`QBHeatDecoder`'s output.

    Args:
        patch_size (int): Cell size p in pixels.
        norm_pix (bool): Normalise each target cell by its own statistics.
            Defaults to True.
        loss_region (str): ``'masked'`` (default) or ``'all'``.
        loss (dict): Loss config. Defaults to ``PixelReconstructionLoss`` with L2.
        in_channels (int): Image channels. Defaults to 3.
        eps (float): Added to the cell variance before the square root. Defaults to 1e-6.
    """

    def __init__(self,
                 patch_size: int,
                 norm_pix: bool = True,
                 loss_region: str = 'masked',
                 loss: dict = dict(type='PixelReconstructionLoss', criterion='L2'),
                 in_channels: int = 3,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if loss_region not in LOSS_REGIONS:
            raise ValueError(f'loss_region must be one of {LOSS_REGIONS}, got {loss_region!r}')
        self.patch_size = patch_size
        self.norm_pix = norm_pix
        self.loss_region = loss_region
        self.in_channels = in_channels
        self.eps = eps
        self.loss_module = MODELS.build(dict(loss))

    def grid_of(self, imgs: torch.Tensor) -> Tuple[int, int]:
        """The gh x gw cell grid of an N x C x H x W batch (H, W multiples of p)."""
        H, W = imgs.shape[-2:]
        p = self.patch_size
        if H % p or W % p:
            raise ValueError(f'image size {H} x {W} is not a multiple of the cell size {p}')
        return H // p, W // p

    def patchify(self, imgs: torch.Tensor) -> torch.Tensor:
        """N x C x H x W -> N x (gh * gw) x (p * p * C)."""
        N, C = imgs.shape[:2]
        gh, gw = self.grid_of(imgs)
        p = self.patch_size
        cells = imgs.reshape(N, C, gh, p, gw, p).permute(0, 2, 4, 3, 5, 1)
        return cells.reshape(N, gh * gw, p * p * C)

    def unpatchify(self, cells: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """N x (gh * gw) x (p * p * C) -> N x C x (gh * p) x (gw * p)."""
        N = cells.shape[0]
        gh, gw = grid
        p, C = self.patch_size, self.in_channels
        if cells.shape[1:] != (gh * gw, p * p * C):
            raise ValueError(f'expected N x {gh * gw} x {p * p * C} cells for a {gh} x {gw} '
                             f'grid, got shape {tuple(cells.shape)}')
        imgs = cells.reshape(N, gh, gw, p, p, C).permute(0, 5, 1, 3, 2, 4)
        return imgs.reshape(N, C, gh * p, gw * p)

    def cell_stats(self, imgs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation (with eps) of every cell, each N x L x 1."""
        cells = self.patchify(imgs)
        mean = cells.mean(dim=-1, keepdim=True)
        std = (cells.var(dim=-1, keepdim=True) + self.eps).sqrt()
        return mean, std

    def construct_target(self, imgs: torch.Tensor) -> torch.Tensor:
        """The target cells, N x L x (p * p * C), normalised per cell when ``norm_pix``."""
        cells = self.patchify(imgs)
        if self.norm_pix:
            mean, std = self.cell_stats(imgs)
            cells = (cells - mean) / std
        return cells

    def loss_mask(self, grid: Tuple[int, int], device: torch.device) -> torch.Tensor:
        """1 x L mask: 1 for cells in the loss, 0 for the visible top-left quarter.

        With ``loss_region='all'`` every cell is 1.
        """
        gh, gw = grid
        mask = torch.ones(gh, gw, device=device)
        if self.loss_region == 'masked':
            mask[:gh // 2, :gw // 2] = 0
        return mask.reshape(1, gh * gw)

    def loss(self, pred: torch.Tensor, imgs: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss.

        Args:
            pred (torch.Tensor): Decoder output, N x L x (p * p * C).
            imgs (torch.Tensor): The (normalised) input batch, N x C x H x W.

        Returns:
            torch.Tensor: The scalar loss.
        """
        target = self.construct_target(imgs)
        if pred.shape != target.shape:
            raise ValueError(f'prediction shape {tuple(pred.shape)} does not match the '
                             f'target cells {tuple(target.shape)}')
        mask = self.loss_mask(self.grid_of(imgs), imgs.device).expand(pred.shape[0], -1)
        return self.loss_module(pred, target, mask)

    def reconstruct(self, pred: torch.Tensor, imgs: torch.Tensor) -> torch.Tensor:
        """Turn decoder output back into an image in the input's (normalised) pixel space.

        With ``norm_pix`` each predicted cell is de-normalised with the mean and standard
        deviation of the same cell of ``imgs``: the usual MAE picture, whose masked
        cells borrow their brightness and contrast from the ground truth.

        Args:
            pred (torch.Tensor): Decoder output, N x L x (p * p * C).
            imgs (torch.Tensor): The (normalised) input batch, N x C x H x W.

        Returns:
            torch.Tensor: N x C x H x W.
        """
        cells = pred
        if self.norm_pix:
            mean, std = self.cell_stats(imgs)
            cells = pred * std + mean
        return self.unpatchify(cells, self.grid_of(imgs))
