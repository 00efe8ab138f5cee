"""ReconstructionMetric: PSNR per quadrant against a hand computation."""
import math

import pytest
import torch

from qbheat_mm.evaluation import ReconstructionMetric
from qbheat_mm.evaluation.reconstruction_metric import psnr, quadrant_mse


def sample(offsets, size=8):
    """gt = 100 everywhere; recon = gt + the offset of each quadrant (v, r, b, d)."""
    gt = torch.full((3, size, size), 100.)
    recon = gt.clone()
    h = size // 2
    for (ys, xs), off in zip([(slice(0, h), slice(0, h)), (slice(0, h), slice(h, None)),
                              (slice(h, None), slice(0, h)), (slice(h, None), slice(h, None))],
                             offsets):
        recon[:, ys, xs] += off
    return dict(recon_img=recon, gt_img=gt)


def test_psnr_per_quadrant_matches_hand_computation():
    metric = ReconstructionMetric()
    metric.process({}, [sample((0, 5, 10, 20)), sample((1, 5, 5, 200))])
    out = metric.evaluate(2)
    db = lambda mse: 10 * math.log10(255**2 / mse)  # noqa: E731
    # image 1: visible exact (capped at 100 dB); image 2: diagonal clamped to 255 (err 155)
    assert out['recon/psnr_visible'] == pytest.approx((100 + db(1)) / 2)
    assert out['recon/psnr_right'] == pytest.approx(db(25))
    assert out['recon/psnr_bottom'] == pytest.approx((db(100) + db(25)) / 2)
    assert out['recon/psnr_diagonal'] == pytest.approx((db(400) + db(155**2)) / 2)
    assert out['recon/psnr_masked'] == pytest.approx(
        (db((25 + 100 + 400) / 3) + db((25 + 25 + 155**2) / 3)) / 2)


def test_helpers():
    assert psnr(255.**2) == pytest.approx(0.)
    assert psnr(0.) == pytest.approx(100.)
    mse = quadrant_mse(torch.full((3, 4, 6), 300.), torch.zeros(3, 4, 6))
    assert mse == dict(visible=255.**2, right=255.**2, bottom=255.**2, diagonal=255.**2,
                       masked=255.**2)
    with pytest.raises(ValueError, match='must both be C x H x W'):
        quadrant_mse(torch.zeros(3, 4, 4), torch.zeros(3, 4, 6))
