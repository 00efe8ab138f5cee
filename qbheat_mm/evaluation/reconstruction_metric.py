"""PSNR of QB-Heat reconstructions, per quadrant, for the pre-training validation loop."""
import math
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmpretrain.registry import METRICS

QUADRANTS = ('visible', 'right', 'bottom', 'diagonal')


def quadrant_mse(recon: torch.Tensor, gt: torch.Tensor) -> Dict[str, float]:
    """Mean squared error of each 2 x 2 quadrant and of the three masked ones together.

    Args:
        recon (torch.Tensor): Reconstruction, C x H x W in 0-255 pixels; values are
            clamped to [0, 255] first, as a saved picture would be.
        gt (torch.Tensor): The original image, C x H x W in 0-255 pixels.

    Returns:
        dict[str, float]: keys ``visible``, ``right``, ``bottom``, ``diagonal`` and
        ``masked`` (the three predicted quarters, which have equal areas).
    """
    if recon.shape != gt.shape or recon.dim() != 3:
        raise ValueError(f'recon and gt must both be C x H x W, got {tuple(recon.shape)} '
                         f'and {tuple(gt.shape)}')
    err = (recon.float().clamp(0, 255) - gt.float())**2
    h, w = err.shape[-2] // 2, err.shape[-1] // 2
    mse = {
        'visible': err[:, :h, :w].mean().item(),
        'right': err[:, :h, w:].mean().item(),
        'bottom': err[:, h:, :w].mean().item(),
        'diagonal': err[:, h:, w:].mean().item(),
    }
    mse['masked'] = (mse['right'] + mse['bottom'] + mse['diagonal']) / 3
    return mse


def psnr(mse: float, max_value: float = 255.) -> float:
    """Peak signal-to-noise ratio in dB (capped at 100 dB for a perfect match)."""
    return 10 * math.log10(max_value**2 / max(mse, max_value**2 * 1e-10))


@METRICS.register_module()
class ReconstructionMetric(BaseMetric):
    """PSNR of QB-Heat reconstructions on held-out images, per quadrant.

    Reads ``recon_img`` and ``gt_img`` (0-255 pixels, written by ``QBHeat.predict``),
    computes one PSNR per image and quadrant, and reports their means over the dataset:
    ``psnr_visible``, ``psnr_right``, ``psnr_bottom``, ``psnr_diagonal`` and
    ``psnr_masked`` (from the mean squared error over the three masked quarters).

    Args:
        collect_device (str): Device to gather results on. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'recon'.
    """

    default_prefix: Optional[str] = 'recon'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the per-image PSNRs of one batch."""
        for sample in data_samples:
            mse = quadrant_mse(sample['recon_img'].cpu(), sample['gt_img'].cpu())
            self.results.append({k: psnr(v) for k, v in mse.items()})

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average each PSNR over all images."""
        if not results:
            raise ValueError('ReconstructionMetric received no samples')
        keys = QUADRANTS + ('masked', )
        return {f'psnr_{k}': sum(r[k] for r in results) / len(results) for k in keys}
