"""QBHeatHead: patchify round trip, per-cell normalisation and statistics, the quarter
mask, the losses, and reconstructions that use only the prediction."""
import math

import pytest
import torch

from qbheat_mm.models.heads import QBHeatHead

P = 4
D = P * P * 3


def test_patchify_unpatchify_round_trip_and_cell_order():
    head = QBHeatHead(patch_size=P)
    imgs = torch.randn(2, 3, 2 * P, 3 * P)
    cells = head.patchify(imgs)
    assert cells.shape == (2, 6, D)
    # cell 4 = grid row 1, column 1; its first value is pixel (P, P) of channel 0
    assert cells[1, 4, 0] == imgs[1, 0, P, P]
    assert cells[1, 4, 1] == imgs[1, 1, P, P]  # channels are innermost
    torch.testing.assert_close(head.unpatchify(cells, (2, 3)), imgs)


def test_pred_dims():
    assert QBHeatHead(patch_size=P).pred_dims == D + 2  # pixels, mean, log-std
    assert QBHeatHead(patch_size=P, norm_pix=False).pred_dims == D


def test_norm_pix_target_and_statistics_per_cell():
    head = QBHeatHead(patch_size=P, norm_pix=True)
    imgs = 5 + 3 * torch.randn(1, 3, 2 * P, 2 * P)
    target, stats = head.construct_target(imgs)
    torch.testing.assert_close(target.mean(-1), torch.zeros(1, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(target.var(-1), torch.ones(1, 4), atol=1e-3, rtol=0)
    cells = head.patchify(imgs)
    torch.testing.assert_close(stats[..., 0], cells.mean(-1))
    torch.testing.assert_close(stats[..., 1], cells.var(-1).add(1e-6).sqrt().log())
    raw, none = QBHeatHead(patch_size=P, norm_pix=False).construct_target(imgs)
    assert none is None
    torch.testing.assert_close(raw, cells)


def test_loss_mask_covers_three_quarters():
    mask = QBHeatHead(patch_size=P).loss_mask((4, 6), torch.device('cpu')).reshape(4, 6)
    assert mask[:2, :3].sum() == 0 and mask.sum() == 24 - 6
    assert QBHeatHead(patch_size=P, loss_region='all').loss_mask(
        (4, 6), torch.device('cpu')).sum() == 24


@pytest.mark.parametrize('norm_pix', [True, False])
def test_masked_loss_ignores_the_visible_quarter(norm_pix):
    head = QBHeatHead(patch_size=P, norm_pix=norm_pix)
    imgs = torch.randn(2, 3, 4 * P, 4 * P)
    pred = torch.randn(2, 16, head.pred_dims)
    changed = imgs.clone()
    changed[..., :2 * P, :2 * P] = torch.randn(2, 3, 2 * P, 2 * P) * 7

    def total(losses):
        return sum(losses.values())

    assert total(head.loss(pred, imgs)) == total(head.loss(pred, changed))
    changed[..., 2 * P:, 2 * P:] = torch.randn(2, 3, 2 * P, 2 * P)  # a masked quarter counts
    assert total(head.loss(pred, imgs)) != total(head.loss(pred, changed))
    all_head = QBHeatHead(patch_size=P, norm_pix=norm_pix, loss_region='all')
    changed = imgs.clone()
    changed[..., :2 * P, :2 * P] = torch.randn(2, 3, 2 * P, 2 * P) * 7
    assert total(all_head.loss(pred, imgs)) != total(all_head.loss(pred, changed))


def test_loss_value_is_mse_over_masked_cells():
    head = QBHeatHead(patch_size=P, norm_pix=False)
    imgs = torch.zeros(1, 3, 2 * P, 2 * P)
    pred = torch.zeros(1, 4, D)
    pred[0, 0] = 10.  # the visible cell: ignored
    pred[0, 3] = 2.  # one of three masked cells: squared error 4 everywhere
    assert set(head.loss(pred, imgs)) == {'loss_pix'}
    assert head.loss(pred, imgs)['loss_pix'].item() == pytest.approx(4 / 3)


def test_stats_loss_value_and_weight():
    head = QBHeatHead(patch_size=P, norm_pix=True, stats_loss_weight=0.5)
    imgs = torch.zeros(1, 3, 2 * P, 2 * P)
    imgs[..., P:, P:] = 3.  # the diagonal cell: mean 3, std sqrt(1e-6)
    pred = torch.zeros(1, 4, D + 2)
    log_std = math.log(1e-3)
    pred[0, :, D + 1] = log_std  # the right log-std everywhere, mean 0 everywhere
    losses = head.loss(pred, imgs)
    assert losses['loss_pix'].item() == pytest.approx(0.)
    # squared error of the mean: 9 on one of three masked cells, averaged over 2 stats
    assert losses['loss_stats'].item() == pytest.approx(0.5 * (9 / 2) / 3, rel=1e-4)


def test_reconstruct_uses_the_predicted_statistics_only():
    head = QBHeatHead(patch_size=P, norm_pix=True)
    imgs = 2 + 3 * torch.randn(1, 3, 2 * P, 2 * P)
    target, stats = head.construct_target(imgs)
    perfect = torch.cat([target, stats], dim=-1)
    # The perfect prediction (values and statistics) reconstructs the image itself ...
    torch.testing.assert_close(head.reconstruct(perfect, (2, 2)), imgs, atol=1e-4, rtol=0)
    # ... and a prediction of zero statistics gives mean 0, std 1 cells, whatever imgs is.
    zero_stats = torch.cat([target, torch.zeros_like(stats)], dim=-1)
    torch.testing.assert_close(head.reconstruct(zero_stats, (2, 2)),
                               head.unpatchify(target, (2, 2)))
    # The leaky view takes the ground truth's statistics and ignores the predicted ones.
    torch.testing.assert_close(head.reconstruct_with_gt_stats(zero_stats, imgs), imgs,
                               atol=1e-4, rtol=0)


def test_raw_pixel_reconstruction_is_the_prediction():
    head = QBHeatHead(patch_size=P, norm_pix=False)
    pred = torch.randn(1, 4, D)
    torch.testing.assert_close(head.reconstruct(pred, (2, 2)), head.unpatchify(pred, (2, 2)))
    with pytest.raises(ValueError, match='needs norm_pix=True'):
        head.reconstruct_with_gt_stats(pred, torch.zeros(1, 3, 2 * P, 2 * P))


def test_bad_arguments():
    with pytest.raises(ValueError, match="loss_region must be one of \\('masked', 'all'\\)"):
        QBHeatHead(patch_size=P, loss_region='visible')
    with pytest.raises(ValueError, match='stats_loss_weight must be >= 0'):
        QBHeatHead(patch_size=P, stats_loss_weight=-1)
    with pytest.raises(ValueError, match='not a multiple of the cell size 4'):
        QBHeatHead(patch_size=P).patchify(torch.zeros(1, 3, 6, 8))
    with pytest.raises(ValueError, match=r'expected a prediction of N x L x 50 values per '
                                         r'cell \(norm_pix=True\), got shape \(1, 4, 48\)'):
        QBHeatHead(patch_size=P).loss(torch.zeros(1, 4, D), torch.zeros(1, 3, 2 * P, 2 * P))
