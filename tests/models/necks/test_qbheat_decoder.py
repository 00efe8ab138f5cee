"""QBHeatDecoder: shapes, parameter count, per-quarter isolation, the global ablation."""
import pytest
import torch

from qbheat_mm.models.necks import QBHeatDecoder
from qbheat_mm.models.necks.qbheat_decoder import sincos_pos_embed_2d
from qbheat_mm.models.utils.quarters import merge_quarters, split_quarters


def test_output_shape_and_parameter_count():
    dec = QBHeatDecoder(in_channels=12, out_dims=50, embed_dims=16, depth=2, num_heads=2,
                        mlp_ratio=2)
    out = dec(torch.randn(2, 12, 2, 4))
    assert out.shape == (2, 8, 50)
    block = 2 * 16 + 3 * 16 * 16 + 3 * 16 + 16 * 16 + 16 + 2 * 16 + 16 * 32 + 32 + 32 * 16 + 16
    expected = (12 * 16 + 16) + 2 * block + 2 * 16 + (16 * 50 + 50)
    assert sum(p.numel() for p in dec.parameters()) == expected
    assert not any('pos' in name for name in dec.state_dict())  # fixed, never saved
    # the global ablation has exactly the same weights
    assert sum(p.numel() for p in QBHeatDecoder(
        in_channels=12, out_dims=50, embed_dims=16, depth=2, num_heads=2, mlp_ratio=2,
        scope='global').parameters()) == expected


def test_quarter_split_and_merge_are_inverse_and_row_major():
    x = torch.arange(2 * 1 * 4 * 6, dtype=torch.float32).reshape(2, 1, 4, 6)
    tokens = split_quarters(x)
    assert tokens.shape == (8, 6, 1)
    # image 1, quarter 3 (bottom-right), its first cell = pixel (2, 3)
    assert tokens[4 + 3, 0, 0] == x[1, 0, 2, 3]
    torch.testing.assert_close(merge_quarters(tokens, (4, 6)), x.flatten(2).transpose(1, 2))


def test_masked_cells_do_not_see_other_quarters():
    torch.manual_seed(0)
    dec = QBHeatDecoder(in_channels=8, out_dims=5, embed_dims=16, depth=2, num_heads=2)
    x = torch.randn(2, 8, 4, 4)
    y = x.clone()
    y[:, :, :2, :2] = torch.randn(2, 8, 2, 2) * 5  # perturb the visible quarter only
    out_x, out_y = dec(x).reshape(2, 4, 4, 5), dec(y).reshape(2, 4, 4, 5)
    masked = torch.ones(4, 4, dtype=torch.bool)
    masked[:2, :2] = False
    torch.testing.assert_close(out_x[:, masked], out_y[:, masked])
    assert (out_x[:, :2, :2] - out_y[:, :2, :2]).abs().max() > 1e-3


def test_equal_quarters_decode_equally_but_positions_inside_a_quarter_matter():
    torch.manual_seed(0)
    dec = QBHeatDecoder(in_channels=8, out_dims=5, embed_dims=16, depth=1, num_heads=2)
    quarter = torch.randn(1, 8, 2, 3)
    x = quarter.repeat(1, 1, 2, 2)  # four copies: the block neck with A = B = 0
    out = dec(x).reshape(1, 4, 6, 5)
    for ys, xs in [(slice(0, 2), slice(3, 6)), (slice(2, 4), slice(0, 3)),
                   (slice(2, 4), slice(3, 6))]:
        torch.testing.assert_close(out[:, ys, xs], out[:, :2, :3])
    same = torch.randn(1, 8, 1, 1).expand(1, 8, 2, 2).contiguous()
    cells = dec(same)[0]  # one cell per quarter: all equal; within a 2 x 2 quarter not
    torch.testing.assert_close(cells[0], cells[3])
    cells = dec(torch.randn(1, 8, 1, 1).expand(1, 8, 4, 4).contiguous())[0]
    assert (cells[0] - cells[1]).abs().max() > 1e-4


def test_global_scope_reads_the_visible_quarter():
    torch.manual_seed(0)
    dec = QBHeatDecoder(in_channels=8, out_dims=5, embed_dims=16, depth=1, num_heads=2,
                        scope='global')
    x = torch.randn(1, 8, 4, 4)
    y = x.clone()
    y[:, :, :2, :2] += 5
    assert (dec(x)[0, -1] - dec(y)[0, -1]).abs().max() > 1e-3  # a diagonal cell moved


def test_sincos_embedding_is_row_major_for_non_square_grids():
    emb = sincos_pos_embed_2d((2, 3), 8)[0]  # 6 cells, dims: sin x, cos x, sin y, cos y
    assert emb.shape == (6, 8)
    # cell 4 is row 1, column 1; cell 2 is row 0, column 2
    torch.testing.assert_close(emb[4, 0], torch.sin(torch.tensor(1.)))
    torch.testing.assert_close(emb[4, 4], torch.sin(torch.tensor(1.)))
    torch.testing.assert_close(emb[2, 0], torch.sin(torch.tensor(2.)))
    torch.testing.assert_close(emb[2, 4], torch.tensor(0.))


def test_embedding_cached_per_quarter_grid():
    dec = QBHeatDecoder(in_channels=4, out_dims=3, embed_dims=8, depth=1, num_heads=2)
    dec(torch.randn(1, 4, 4, 4))
    dec(torch.randn(1, 4, 8, 4))
    assert set(dec._pos_cache) == {(2, 2), (4, 2)}


def test_bad_arguments():
    with pytest.raises(ValueError, match='needs out_dims'):
        QBHeatDecoder(in_channels=4, embed_dims=8, num_heads=2)
    with pytest.raises(ValueError, match="scope must be one of \\('quarter', 'global'\\)"):
        QBHeatDecoder(in_channels=4, out_dims=3, embed_dims=8, num_heads=2, scope='cell')
    with pytest.raises(ValueError, match='divisible by 4'):
        QBHeatDecoder(in_channels=4, out_dims=3, embed_dims=10, num_heads=2)
    dec = QBHeatDecoder(in_channels=4, out_dims=3, embed_dims=8, num_heads=2)
    with pytest.raises(ValueError, match='expects N x 4 x gh x gw'):
        dec(torch.randn(1, 5, 2, 2))
    with pytest.raises(ValueError, match='a 3 x 2 map has no four equal quarters'):
        dec(torch.randn(1, 4, 3, 2))
    with pytest.raises(ValueError, match=r'stats_dims must be in \[0, out_dims=3\), got 3'):
        QBHeatDecoder(in_channels=4, out_dims=3, embed_dims=8, num_heads=2, stats_dims=3)
