"""ReconstructionMetric: PSNR per quadrant and the trivial baselines, by hand computation."""
import math

import pytest
import torch

from qbheat_mm.evaluation import ReconstructionMetric
from qbheat_mm.evaluation.reconstruction_metric import (copy_visible, flat_visible_mean, psnr,
                                                    quadrant_mse)


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


def test_trivial_baselines_and_gain_on_a_hand_built_image():
    # visible quarter: columns 0-1 at 80, 2-3 at 120 (mean 100); the right quarter repeats
    # that pattern, bottom and diagonal are flat 100.
    gt = torch.full((3, 8, 8), 100.)
    gt[:, :4, 0:2] = gt[:, :4, 4:6] = 80.
    gt[:, :4, 2:4] = gt[:, :4, 6:8] = 120.
    torch.testing.assert_close(copy_visible(gt)[:, :4, 4:], gt[:, :4, 4:])
    torch.testing.assert_close(flat_visible_mean(gt), torch.full((3, 8, 8), 100.))
    recon = gt.clone()
    recon[:, 4:] += 10.
    recon[:, :4, 4:] += 10.  # every masked pixel off by 10
    metric = ReconstructionMetric()
    metric.process({}, [dict(recon_img=recon, gt_img=gt, recon_img_gtstats=gt.clone())])
    out = metric.evaluate(1)
    db = lambda mse: 10 * math.log10(255**2 / mse)  # noqa: E731
    assert out['recon/psnr_masked'] == pytest.approx(db(100))
    # copy: right exact, bottom and diagonal off by 20; flat: only the right quarter off
    assert out['recon/psnr_masked_copy'] == pytest.approx(db((0 + 400 + 400) / 3))
    assert out['recon/psnr_masked_flat'] == pytest.approx(db((400 + 0 + 0) / 3))
    assert out['recon/psnr_masked_gain'] == pytest.approx(db(100) - db(400 / 3))
    assert out['recon/psnr_masked_gtstats'] == pytest.approx(100.)  # named as leaky


def test_gtstats_psnr_only_when_every_sample_has_it():
    metric = ReconstructionMetric()
    metric.process({}, [sample((0, 5, 10, 20))])
    assert 'recon/psnr_masked_gtstats' not in metric.evaluate(1)


def test_control_answers_are_logged_from_the_visible_quarter_only():
    import numpy as np

    from qbheat_mm.datasets.heat_control import CONTROL_WAVES, HeatControlDataset
    ds = HeatControlDataset(num_samples=2, split='val', img_size=64)
    metric = ReconstructionMetric(control_waves=[list(w) for w in CONTROL_WAVES])
    samples = []
    for i in range(2):
        gt = torch.from_numpy(ds.image(i)[..., ::-1].astype(np.float32)).permute(2, 0, 1)
        samples.append(dict(recon_img=gt.clone(), gt_img=gt))
    metric.process({}, samples)
    out = metric.evaluate(2)
    # The known answer is the image up to 8-bit rounding; the frozen operator's ceiling
    # sits far below it but above both trivial predictors, which still set the gain.
    assert out['recon/psnr_masked_known'] > 50
    assert out['recon/psnr_masked_flat'] < out['recon/psnr_masked_shared'] < 25
    assert out['recon/psnr_masked_gain'] == pytest.approx(
        out['recon/psnr_masked'] - max(out['recon/psnr_masked_copy'],
                                       out['recon/psnr_masked_flat']))
    # Only a control metric logs them (that they read nothing but the visible quarter is
    # tested in tests/datasets/test_heat_control.py).
    plain = ReconstructionMetric()
    plain.process({}, samples)
    assert 'recon/psnr_masked_known' not in plain.evaluate(2)
