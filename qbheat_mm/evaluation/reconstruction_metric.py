"""PSNR of QB-Heat reconstructions per quadrant, and of two trivial predictors, for the
pre-training validation loop."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmpretrain.registry import METRICS
from qbheat_mm.datasets.heat_control import linear_extrapolation, shared_extrapolation
from qbheat_mm.models.utils.quarters import image_quarters, visible_quarter

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
    mse = {name: q.mean().item() for name, q in zip(QUADRANTS, image_quarters(err))}
    mse['masked'] = (mse['right'] + mse['bottom'] + mse['diagonal']) / 3
    return mse


def copy_visible(gt: torch.Tensor) -> torch.Tensor:
    """Trivial predictor: the visible top-left quarter tiled into the three masked ones."""
    return visible_quarter(gt).repeat(1, 2, 2)


def flat_visible_mean(gt: torch.Tensor) -> torch.Tensor:
    """Trivial predictor: every pixel is the visible quarter's mean colour."""
    return visible_quarter(gt).mean(dim=(-2, -1), keepdim=True).expand_as(gt)


#: The trivial predictors logged next to the model, each from the visible quarter only.
BASELINES = {'copy': copy_visible, 'flat': flat_visible_mean}


def psnr(mse: float, max_value: float = 255.) -> float:
    """Peak signal-to-noise ratio in dB (capped at 100 dB for a perfect match)."""
    return 10 * math.log10(max_value**2 / max(mse, max_value**2 * 1e-10))


@METRICS.register_module()
class ReconstructionMetric(BaseMetric):
    """PSNR of QB-Heat reconstructions on held-out images, with trivial baselines.

    Reads ``recon_img`` and ``gt_img`` (0-255 pixels, written by ``QBHeat.predict``;
    ``recon_img`` uses nothing but the visible quarter), computes one PSNR per image and
    quadrant and reports their means over the dataset: ``psnr_visible``, ``psnr_right``,
    ``psnr_bottom``, ``psnr_diagonal`` and ``psnr_masked`` (from the mean squared error
    over the three masked quarters).

    The same masked PSNR is reported for two trivial predictors that see only the
    visible quarter (:data:`BASELINES`): ``psnr_masked_copy`` (the visible quarter copied
    into the other three) and ``psnr_masked_flat`` (its mean colour everywhere), and
    ``psnr_masked_gain`` = ``psnr_masked`` minus the better of the two: a positive gain
    says the model beats copying. When samples carry ``recon_img_gtstats`` (``norm_pix``
    models), ``psnr_masked_gtstats`` scores that MAE-style picture, which borrows the
    hidden cells' own mean and std: it is not a prediction, and is named so.

    On the known-answer control (:class:`~qbheat_mm.datasets.HeatControlDataset`),
    ``control_waves`` adds the answers the data was built to have, both computed from
    the visible quarter alone: ``psnr_masked_known`` (the exact linear extrapolation,
    limited only by 8-bit rounding) and ``psnr_masked_shared`` (the best prediction
    shared by the three masked quarters: the ceiling of a frozen operator). They are
    references, not baselines: the gain is still over copy and flat.

    Args:
        control_waves (sequence of (u, v), optional): The control's wave vectors (cycles
            per image); None (default) for any other data.
        collect_device (str): Device to gather results on. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'recon'.
    """

    default_prefix: Optional[str] = 'recon'

    def __init__(self, control_waves: Optional[Sequence[Sequence[float]]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.control_waves: Optional[Tuple[Tuple[float, float], ...]] = (
            None if control_waves is None
            else tuple((float(u), float(v)) for u, v in control_waves))

    def _control_answers(self, gt: torch.Tensor) -> Dict[str, float]:
        """Masked PSNR of the control's known answer and of the frozen operator's ceiling."""
        image = gt.permute(1, 2, 0).numpy().astype(np.float64)
        answers = {}
        for name, answer in (('known', linear_extrapolation), ('shared', shared_extrapolation)):
            pred = torch.from_numpy(answer(image, self.control_waves)).permute(2, 0, 1)
            answers[f'masked_{name}'] = psnr(quadrant_mse(pred, gt)['masked'])
        return answers

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the per-image PSNRs of one batch."""
        for sample in data_samples:
            gt = sample['gt_img'].cpu().float()
            result = {k: psnr(v) for k, v in quadrant_mse(sample['recon_img'].cpu(), gt).items()}
            for name, predictor in BASELINES.items():
                result[f'masked_{name}'] = psnr(quadrant_mse(predictor(gt), gt)['masked'])
            if self.control_waves is not None:
                result.update(self._control_answers(gt))
            if 'recon_img_gtstats' in sample:
                result['masked_gtstats'] = psnr(
                    quadrant_mse(sample['recon_img_gtstats'].cpu(), gt)['masked'])
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average each PSNR over all images; the gain over the better baseline."""
        if not results:
            raise ValueError('ReconstructionMetric received no samples')
        keys = list(QUADRANTS) + ['masked'] + [f'masked_{b}' for b in BASELINES]
        for extra in ('masked_gtstats', 'masked_known', 'masked_shared'):
            if all(extra in r for r in results):
                keys.append(extra)
        metrics = {f'psnr_{k}': sum(r[k] for r in results) / len(results) for k in keys}
        best_baseline = max(metrics[f'psnr_masked_{b}'] for b in BASELINES)
        metrics['psnr_masked_gain'] = metrics['psnr_masked'] - best_baseline
        return metrics
