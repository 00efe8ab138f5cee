"""The QB-Heat head: owns the pixel target, the quarter mask, the loss and the honest
reconstruction [ours, MAE-style]."""
from typing import Dict, Optional, Tuple

import torch
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS

from ..utils.quarters import hidden_mask

LOSS_REGIONS = ('masked', 'all')


@MODELS.register_module()
class QBHeatHead(BaseModule):
    """Per-cell pixel target, reconstruction loss and honest reconstructions for QB-Heat.

    The image is split into p x p cells (p = the encoder stride, so one cell per
    position of the extrapolated feature map). With ``norm_pix`` each target cell is
    normalised by its own mean and variance, as MAE does. The loss is MMPretrain's
    ``PixelReconstructionLoss`` over the cells of the three masked quarters
    (``loss_region='masked'``) or over every cell (``'all'``).

    A normalised prediction says nothing about a hidden cell's brightness and contrast,
    and borrowing them from the hidden cell (the usual MAE picture) leaks the ground
    truth. So with ``norm_pix`` the decoder also predicts every cell's mean and log
    standard deviation [ours], trained by a second term ``loss_stats`` (the same loss on
    the same cells, weighted by ``stats_loss_weight``), and :meth:`reconstruct` uses only
    those predicted statistics. :meth:`reconstruct_with_gt_stats` is the leaky MAE view,
    kept under a name that says so.

    Cells are flattened row-major over the gh x gw grid and each cell as (row, column,
    channel); a prediction is ``N x L x pred_dims``: the p * p * C cell values, then
    (``norm_pix`` only) the predicted mean and log-std.

    Args:
        patch_size (int): Cell size p in pixels.
        norm_pix (bool): Normalise each target cell by its own statistics (and predict
            them). Defaults to True.
        loss_region (str): ``'masked'`` (default) or ``'all'``.
        loss (dict): Loss config. Defaults to ``PixelReconstructionLoss`` with L2.
        stats_loss_weight (float): Weight of ``loss_stats`` (``norm_pix`` only).
            Defaults to 1.
        in_channels (int): Image channels. Defaults to 3.
        eps (float): Added to the cell variance before the square root. Defaults to 1e-6.
    """

    #: Predicted log-std is clamped to this range when de-normalising, so an untrained
    #: model's picture stays finite.
    LOG_STD_RANGE = (-10., 5.)

    def __init__(self,
                 patch_size: int,
                 norm_pix: bool = True,
                 loss_region: str = 'masked',
                 loss: dict = dict(type='PixelReconstructionLoss', criterion='L2'),
                 stats_loss_weight: float = 1.,
                 in_channels: int = 3,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if loss_region not in LOSS_REGIONS:
            raise ValueError(f'loss_region must be one of {LOSS_REGIONS}, got {loss_region!r}')
        if stats_loss_weight < 0:
            raise ValueError(f'stats_loss_weight must be >= 0, got {stats_loss_weight}')
        self.patch_size = patch_size
        self.norm_pix = norm_pix
        self.loss_region = loss_region
        self.stats_loss_weight = stats_loss_weight
        self.in_channels = in_channels
        self.eps = eps
        self.loss_module = MODELS.build(dict(loss))

    @property
    def cell_dims(self) -> int:
        """Pixel values per cell, p * p * C."""
        return self.patch_size * self.patch_size * self.in_channels

    @property
    def pred_dims(self) -> int:
        """Values the decoder must predict per cell (pixels, plus mean and log-std)."""
        return self.cell_dims + (2 if self.norm_pix else 0)

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

    def cell_stats(self, cells: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation (with eps) of every patchified cell, each N x L x 1."""
        mean = cells.mean(dim=-1, keepdim=True)
        std = (cells.var(dim=-1, keepdim=True) + self.eps).sqrt()
        return mean, std

    def split_prediction(self, pred: torch.Tensor
                         ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Decoder output -> (cell values N x L x p*p*C, statistics N x L x 2 or None)."""
        if pred.dim() != 3 or pred.shape[-1] != self.pred_dims:
            raise ValueError(f'expected a prediction of N x L x {self.pred_dims} values per '
                             f'cell (norm_pix={self.norm_pix}), got shape {tuple(pred.shape)}')
        if not self.norm_pix:
            return pred, None
        return pred[..., :self.cell_dims], pred[..., self.cell_dims:]

    def construct_target(self, imgs: torch.Tensor
                         ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The target cells N x L x (p * p * C), normalised per cell when ``norm_pix``, and
        (``norm_pix`` only) each cell's mean and log-std, N x L x 2."""
        cells = self.patchify(imgs)
        if not self.norm_pix:
            return cells, None
        mean, std = self.cell_stats(cells)
        return (cells - mean) / std, torch.cat([mean, std.log()], dim=-1)

    def loss_mask(self, grid: Tuple[int, int], device: torch.device) -> torch.Tensor:
        """1 x L mask: 1 for cells in the loss, 0 for the visible top-left quarter.

        With ``loss_region='all'`` every cell is 1.
        """
        if self.loss_region == 'masked':
            return hidden_mask(grid, device)
        return torch.ones(1, grid[0] * grid[1], device=device)

    def loss(self, pred: torch.Tensor, imgs: torch.Tensor,
             mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Reconstruction losses.

        Args:
            pred (torch.Tensor): Decoder output, N x L x ``pred_dims``.
            imgs (torch.Tensor): The (normalised) input batch, N x C x H x W.
            mask (torch.Tensor, optional): 1 or N x L, 1 for the cells in the loss, as
                the algorithm made it; defaults to :meth:`loss_mask`.

        Returns:
            dict[str, torch.Tensor]: ``loss_pix`` and, with ``norm_pix``, ``loss_stats``
            (already weighted); the runner sums them.
        """
        cells, stats = self.split_prediction(pred)
        target, target_stats = self.construct_target(imgs)
        if cells.shape != target.shape:
            raise ValueError(f'prediction shape {tuple(cells.shape)} does not match the '
                             f'target cells {tuple(target.shape)}')
        if mask is None:
            mask = self.loss_mask(self.grid_of(imgs), imgs.device)
        if mask.shape[-1] != target.shape[1]:
            raise ValueError(f'the loss mask has {mask.shape[-1]} cells but the target has '
                             f'{target.shape[1]}')
        mask = mask.to(target.dtype).expand(pred.shape[0], -1)
        losses = dict(loss_pix=self.loss_module(cells, target, mask))
        if stats is not None:
            losses['loss_stats'] = self.stats_loss_weight * self.loss_module(
                stats, target_stats, mask)
        return losses

    def reconstruct(self, pred: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """Turn decoder output into an image in the input's (normalised) pixel space, from
        the prediction alone.

        With ``norm_pix`` each cell is de-normalised with its *predicted* mean and
        log-std: nothing of the hidden image is used.

        Args:
            pred (torch.Tensor): Decoder output, N x L x ``pred_dims``.
            grid (tuple[int, int]): The gh x gw cell grid (L = gh * gw).

        Returns:
            torch.Tensor: N x C x (gh * p) x (gw * p).
        """
        cells, stats = self.split_prediction(pred)
        if stats is not None:
            log_std = stats[..., 1:].clamp(*self.LOG_STD_RANGE)
            cells = cells * log_std.exp() + stats[..., :1]
        return self.unpatchify(cells, grid)

    def reconstruct_with_gt_stats(self, pred: torch.Tensor,
                                  imgs: torch.Tensor) -> torch.Tensor:
        """The MAE-style picture: each predicted normalised cell de-normalised with the
        mean and std of the *same cell of* ``imgs``. Leaks the hidden cells' brightness
        and contrast; only for comparison, under this name (needs ``norm_pix``)."""
        if not self.norm_pix:
            raise ValueError('reconstruct_with_gt_stats needs norm_pix=True; without it the '
                             'prediction is in pixel space already (use reconstruct)')
        cells, _ = self.split_prediction(pred)
        mean, std = self.cell_stats(self.patchify(imgs))
        return self.unpatchify(cells * std + mean, self.grid_of(imgs))
