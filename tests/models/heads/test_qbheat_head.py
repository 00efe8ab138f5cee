"""QBHeatHead: patchify round trip, per-cell normalisation, the quarter mask, the loss."""
import pytest
import torch

from qbheat_mm.models.heads import QBHeatHead

P = 4


def test_patchify_unpatchify_round_trip_and_cell_order():
    head = QBHeatHead(patch_size=P)
    imgs = torch.randn(2, 3, 2 * P, 3 * P)
    cells = head.patchify(imgs)
    assert cells.shape == (2, 6, P * P * 3)
    # cell 4 = grid row 1, column 1; its first value is pixel (P, P) of channel 0
    assert cells[1, 4, 0] == imgs[1, 0, P, P]
    assert cells[1, 4, 1] == imgs[1, 1, P, P]  # channels are innermost
    torch.testing.assert_close(head.unpatchify(cells, (2, 3)), imgs)


def test_norm_pix_target_has_zero_mean_unit_variance_per_cell():
    head = QBHeatHead(patch_size=P, norm_pix=True)
    imgs = 5 + 3 * torch.randn(1, 3, 2 * P, 2 * P)
    target = head.construct_target(imgs)
    torch.testing.assert_close(target.mean(-1), torch.zeros(1, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(target.var(-1), torch.ones(1, 4), atol=1e-3, rtol=0)
    raw = QBHeatHead(patch_size=P, norm_pix=False).construct_target(imgs)
    torch.testing.assert_close(raw, head.patchify(imgs))


def test_loss_mask_covers_three_quarters():
    mask = QBHeatHead(patch_size=P).loss_mask((4, 6), torch.device('cpu')).reshape(4, 6)
    assert mask[:2, :3].sum() == 0 and mask.sum() == 24 - 6
    assert QBHeatHead(patch_size=P, loss_region='all').loss_mask(
        (4, 6), torch.device('cpu')).sum() == 24


@pytest.mark.parametrize('norm_pix', [True, False])
def test_masked_loss_ignores_the_visible_quarter(norm_pix):
    head = QBHeatHead(patch_size=P, norm_pix=norm_pix)
    imgs = torch.randn(2, 3, 4 * P, 4 * P)
    pred = torch.randn(2, 16, P * P * 3)
    changed = imgs.clone()
    changed[..., :2 * P, :2 * P] = torch.randn(2, 3, 2 * P, 2 * P) * 7
    assert head.loss(pred, imgs) == head.loss(pred, changed)
    changed[..., 2 * P:, 2 * P:] = torch.randn(2, 3, 2 * P, 2 * P)  # a masked quarter counts
    assert head.loss(pred, imgs) != head.loss(pred, changed)
    all_head = QBHeatHead(patch_size=P, norm_pix=norm_pix, loss_region='all')
    changed = imgs.clone()
    changed[..., :2 * P, :2 * P] = torch.randn(2, 3, 2 * P, 2 * P) * 7
    assert all_head.loss(pred, imgs) != all_head.loss(pred, changed)


def test_loss_value_is_mse_over_masked_cells():
    head = QBHeatHead(patch_size=P, norm_pix=False)
    imgs = torch.zeros(1, 3, 2 * P, 2 * P)
    pred = torch.zeros(1, 4, P * P * 3)
    pred[0, 0] = 10.  # the visible cell: ignored
    pred[0, 3] = 2.  # one of three masked cells: squared error 4 everywhere
    assert head.loss(pred, imgs).item() == pytest.approx(4 / 3)


def test_reconstruct_restores_each_cells_statistics():
    head = QBHeatHead(patch_size=P, norm_pix=True)
    imgs = 2 + 3 * torch.randn(1, 3, 2 * P, 2 * P)
    # The perfect prediction of the normalised target reconstructs the image itself.
    torch.testing.assert_close(head.reconstruct(head.construct_target(imgs), imgs), imgs,
                               atol=1e-4, rtol=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="loss_region must be one of \\('masked', 'all'\\)"):
        QBHeatHead(patch_size=P, loss_region='visible')
    with pytest.raises(ValueError, match='not a multiple of the cell size 4'):
        QBHeatHead(patch_size=P).patchify(torch.zeros(1, 3, 6, 8))
