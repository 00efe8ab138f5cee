"""QBHeatDecoder: shapes, parameter count, fixed position embeddings for any grid."""
import pytest
import torch

from qbheat_mm.models.necks import QBHeatDecoder
from qbheat_mm.models.necks.qbheat_decoder import sincos_pos_embed_2d


def test_output_shape_and_parameter_count():
    dec = QBHeatDecoder(in_channels=12, embed_dims=16, depth=2, num_heads=2, mlp_ratio=2,
                        patch_size=4)
    out = dec(torch.randn(2, 12, 2, 4))
    assert out.shape == (2, 8, 4 * 4 * 3)
    block = 2 * 16 + 3 * 16 * 16 + 3 * 16 + 16 * 16 + 16 + 2 * 16 + 16 * 32 + 32 + 32 * 16 + 16
    expected = (12 * 16 + 16) + 2 * block + 2 * 16 + (16 * 48 + 48)
    assert sum(p.numel() for p in dec.parameters()) == expected
    assert not any('pos' in name for name in dec.state_dict())  # fixed, never saved


def test_sincos_embedding_is_row_major_for_non_square_grids():
    emb = sincos_pos_embed_2d((2, 3), 8)[0]  # 6 cells, dims: sin x, cos x, sin y, cos y
    assert emb.shape == (6, 8)
    # cell 4 is row 1, column 1; cell 2 is row 0, column 2
    torch.testing.assert_close(emb[4, 0], torch.sin(torch.tensor(1.)))
    torch.testing.assert_close(emb[4, 4], torch.sin(torch.tensor(1.)))
    torch.testing.assert_close(emb[2, 0], torch.sin(torch.tensor(2.)))
    torch.testing.assert_close(emb[2, 4], torch.tensor(0.))


def test_embedding_cached_per_grid_and_positions_matter():
    dec = QBHeatDecoder(in_channels=4, embed_dims=8, depth=1, num_heads=2, patch_size=2)
    x = torch.randn(1, 4, 1, 1).expand(1, 4, 2, 2).contiguous()  # equal features
    out = dec(x)
    assert set(dec._pos_cache) == {(2, 2)}
    assert (out[0, 0] - out[0, 3]).abs().max() > 1e-4  # only the position tells them apart
    dec(torch.randn(1, 4, 4, 2))
    assert set(dec._pos_cache) == {(2, 2), (4, 2)}


def test_bad_arguments():
    with pytest.raises(ValueError, match='divisible by 4'):
        QBHeatDecoder(in_channels=4, embed_dims=10, num_heads=2)
    with pytest.raises(ValueError, match='expects N x 4 x gh x gw'):
        QBHeatDecoder(in_channels=4, embed_dims=8, num_heads=2)(torch.randn(1, 5, 2, 2))
