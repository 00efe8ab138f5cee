"""QB-Heat: quarter-block prediction under a first-order heat equation (arXiv 2211.13228)."""
from typing import Dict, List, Optional, Union

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.quarters import last_map, visible_quarter


@MODELS.register_module()
class QBHeat(BaseSelfSupervisor):
    """QB-Heat self-supervised pre-training.

    The algorithm only orchestrates, as MMPretrain's MAE does:

    1. crop the visible top-left quarter of the normalised batch,
    2. encode it with any CNN backbone (its last output, N x C x h x w),
    3. ``neck`` (:class:`HeatExtrapolationNeck`) extrapolates the full 2h x 2w map,
    4. ``decoder`` (:class:`QBHeatDecoder`) maps every cell to p x p pixels (each
       quarter on its own, so masked pixels see the visible quarter only through A, B),
    5. ``head`` (:class:`QBHeatHead`) builds the target and computes the loss.

    The neck is the method (a linear feature predictor); the decoder is the disposable
    pixel generator, kept as its own module so the neck stays a pure heat operator.

    Args:
        backbone (dict): The encoder; its last output must be the stride
            ``encoder_stride`` map.
        neck (dict): The heat-extrapolation neck.
        decoder (dict): The pixel decoder; its ``out_dims`` comes from the head.
        head (dict): The target and loss head; its ``patch_size`` comes from
            ``encoder_stride``.
        encoder_stride (int): Output stride of the encoder, and so the cell size p of
            the head (the one place it is stated). Defaults to 32.
        pretrained (str, optional): Checkpoint of a whole QB-Heat model to initialise
            from, loaded strictly (``StrictPretrained`` without a prefix): every key must
            match, or ``init_weights`` raises naming the missing and unexpected keys.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 decoder: dict,
                 head: dict,
                 encoder_stride: int = 32,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError('QBHeat takes pretrained or init_cfg, not both')
            # MMEngine's 'Pretrained' (what the base class would use) loads non-strictly.
            init_cfg = dict(type='StrictPretrained', checkpoint=pretrained, prefix=None)
        if isinstance(head, dict):
            self._check_cell_size(head.get('patch_size', encoder_stride), encoder_stride)
            head = dict(head, patch_size=encoder_stride)
        else:
            self._check_cell_size(head.patch_size, encoder_stride)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not isinstance(decoder, nn.Module):
            # The head decides what a cell's prediction holds (pixels, statistics).
            decoder = MODELS.build(dict(dict(out_dims=self.head.pred_dims,
                                             stats_dims=self.head.pred_dims -
                                             self.head.cell_dims), **decoder))
        self.decoder = decoder
        self.encoder_stride = encoder_stride
        self._check_build()

    # -- build-time checks -------------------------------------------------------------
    @staticmethod
    def _check_cell_size(patch_size: int, encoder_stride: int) -> None:
        """The head's cells must be the encoder's: one cell per feature-map position."""
        if patch_size != encoder_stride:
            raise ValueError(f'head patch_size is {patch_size} but each feature cell '
                             f'covers encoder_stride={encoder_stride} pixels; leave '
                             'patch_size out of the head config (QBHeat sets it)')

    def _backbone_channels(self) -> int:
        """Channels of the backbone's last output: its ``out_channels`` or a dry run."""
        out_channels = getattr(self.backbone, 'out_channels', None)
        if isinstance(out_channels, (tuple, list)) and out_channels:
            return int(out_channels[-1])
        if isinstance(out_channels, int):
            return out_channels
        # No declared channels (e.g. MMPretrain's ResNet): run a tiny batch in eval mode
        # (BatchNorm must not see a batch of one in training mode, nor update its stats).
        was_training = self.backbone.training
        self.backbone.eval()
        try:
            with torch.no_grad():
                size = 2 * self.encoder_stride
                feats = self.backbone(torch.zeros(1, 3, size, size))
        finally:
            self.backbone.train(was_training)
        return int(last_map(feats).shape[1])

    def _check_build(self) -> None:
        """Fail at build time when the parts cannot work together."""
        channels = self._backbone_channels()
        if channels != self.neck.in_channels:
            raise ValueError(f'neck in_channels is {self.neck.in_channels} but the backbone '
                             f'outputs {channels} channels; set neck.in_channels={channels}')
        if self.decoder.in_channels != self.neck.out_channels:
            raise ValueError(f'decoder in_channels is {self.decoder.in_channels} but the neck '
                             f'outputs {self.neck.out_channels} channels')
        if self.decoder.out_dims != self.head.pred_dims:
            raise ValueError(f'decoder out_dims is {self.decoder.out_dims} but the head needs '
                             f'{self.head.pred_dims} values per cell (norm_pix='
                             f'{self.head.norm_pix}); leave out_dims out of the decoder config')
        stats = self.head.pred_dims - self.head.cell_dims
        if getattr(self.decoder, 'stats_dims', stats) != stats:
            raise ValueError(f'decoder stats_dims is {self.decoder.stats_dims} but the head '
                             f'predicts {stats} statistics per cell; leave stats_dims out of '
                             'the decoder config')

    # -- the steps -------------------------------------------------------------------------
    def check_geometry(self, inputs: torch.Tensor) -> None:
        """Raise a ValueError unless H and W are multiples of 2 x encoder_stride, and,
        while a BatchNorm of the encoder trains, unless its last map holds more than one
        value per channel (a batch of one at the smallest size)."""
        N, H, W = inputs.shape[0], *inputs.shape[-2:]
        m = 2 * self.encoder_stride
        if H % m or W % m:
            raise ValueError(
                f'QB-Heat needs image height and width that are multiples of 2 x '
                f'encoder_stride = {m}, got {H} x {W}; valid sizes are {m}, {2 * m}, '
                f'{3 * m}, ... (e.g. {max(m, H // m * m)} x {max(m, W // m * m)})')
        if N * (H // m) * (W // m) == 1 and any(
                isinstance(module, _BatchNorm) and module.training
                for module in self.backbone.modules()):
            raise ValueError(
                f'a batch of 1 image of {H} x {W}: the encoder maps its {H // 2} x {W // 2} '
                f'visible quarter to 1 x 1 cell, one value per channel, which its BatchNorm '
                'cannot normalise while training. Use a batch size of at least 2 '
                '(train_dataloader.batch_size, per process; drop_last=True keeps a last '
                f'batch of one out), or images of at least {2 * m} px.')

    def encode_visible(self, inputs: torch.Tensor) -> torch.Tensor:
        """Encode the top-left quarter: N x 3 x H x W -> N x C x H/(2s) x W/(2s)."""
        self.check_geometry(inputs)
        H, W = inputs.shape[-2:]
        z = last_map(self.backbone(visible_quarter(inputs)))
        expected = (H // (2 * self.encoder_stride), W // (2 * self.encoder_stride))
        if tuple(z.shape[-2:]) != expected:
            raise ValueError(f'the backbone turned a {H // 2} x {W // 2} quarter into a '
                             f'{z.shape[-2]} x {z.shape[-1]} map, expected {expected[0]} x '
                             f'{expected[1]} for encoder_stride={self.encoder_stride}')
        return z

    def predict_cells(self, inputs: torch.Tensor,
                      mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encode, extrapolate and decode: N x L x ``head.pred_dims`` per cell. ``mask``
        (1 x L, the loss mask) names the cells wanted; None: all. A mask without the
        visible quarter leaves its cells zero, see :class:`QBHeatDecoder`."""
        return self.decoder(self.neck(self.encode_visible(inputs)), mask)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The encoder's map of the full image (what probes and detectors see)."""
        return self.backbone(inputs)

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[DataSample]] = None,
             decode_all: bool = False) -> Dict[str, torch.Tensor]:
        """The reconstruction loss of one batch.

        The mask is made once, by the head (which cells the loss covers), and handed to
        the decoder (which then skips the cells no loss reads: the visible quarter, in the
        default ``loss_region='masked'``) and to the head's loss.

        Args:
            inputs (torch.Tensor): Normalised images, N x 3 x H x W.
            data_samples (list[DataSample], optional): Unused.
            decode_all (bool): Decode every quarter even when the loss skips some. Same
                loss and gradients, more work; the benchmark's reference. Defaults to False.

        Returns:
            dict[str, torch.Tensor]: ``loss_pix`` and, with ``norm_pix``, ``loss_stats``.
        """
        self.check_geometry(inputs)  # before anything reads the grid: the clearest error
        mask = self.head.loss_mask(self.head.grid_of(inputs), inputs.device)
        pred = self.predict_cells(inputs, None if decode_all else mask)
        return self.head.loss(pred, inputs, mask)

    # -- validation ------------------------------------------------------------------------
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``'tensor'``, ``'loss'`` as every self-supervisor, plus ``'predict'``."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def _to_pixels(self, x: torch.Tensor) -> torch.Tensor:
        """Undo the data preprocessor's normalisation: back to 0-255 pixels."""
        # ImgDataPreprocessor registers mean/std buffers only when it normalises.
        mean = getattr(self.data_preprocessor, 'mean', None)
        std = getattr(self.data_preprocessor, 'std', None)
        if mean is None or std is None:
            return x
        return x * std + mean

    @torch.no_grad()
    def predict(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None) -> List[DataSample]:
        """Reconstruct each image from its visible quarter.

        Every returned sample carries, as 3 x H x W float in 0-255 pixels (the model's
        channel order, RGB in QB-Heat configs):

        - ``recon_img``: the reconstruction, computed from the visible quarter alone
          (with ``norm_pix``, de-normalised with the model's predicted cell statistics);
        - ``gt_img``: the input;
        - ``recon_img_gtstats`` (``norm_pix`` only): the MAE-style picture whose cells
          take the ground truth's own mean and std. It leaks hidden information and is
          reported only under names that say so.

        and the metainfo ``visible_hw`` (the size of the visible top-left quarter).
        """
        pred = self.predict_cells(inputs)
        grid = self.head.grid_of(inputs)
        views = dict(recon_img=self.head.reconstruct(pred, grid), gt_img=inputs)
        if self.head.norm_pix:
            views['recon_img_gtstats'] = self.head.reconstruct_with_gt_stats(pred, inputs)
        views = {k: self._to_pixels(v) for k, v in views.items()}
        if data_samples is None:
            data_samples = [DataSample() for _ in range(inputs.shape[0])]
        H, W = inputs.shape[-2:]
        for i, sample in enumerate(data_samples):
            sample.set_metainfo(dict(visible_hw=(H // 2, W // 2)))
            for key, view in views.items():
                sample.set_field(view[i], key)
        return data_samples
