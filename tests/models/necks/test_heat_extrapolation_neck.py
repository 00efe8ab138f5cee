"""HeatExtrapolationNeck and heat_extrapolate against slow cell-by-cell loops."""
import pytest
import torch

from qbheat_mm.models.necks import HeatExtrapolationNeck, heat_extrapolate

N, C, h, w = 2, 5, 3, 4


def _ln(v: torch.Tensor) -> torch.Tensor:
    """LayerNorm without affine of one C-vector."""
    return (v - v.mean()) / torch.sqrt(v.var(unbiased=False) + 1e-6)


def slow_block(z, A, B, diagonal):
    I = torch.eye(C, dtype=z.dtype)
    out = torch.zeros(N, C, 2 * h, 2 * w, dtype=z.dtype)
    for n in range(N):
        for i in range(h):
            for j in range(w):
                v = z[n, :, i, j]
                ab = (I + B) @ (I + A) @ v
                ba = (I + A) @ (I + B) @ v
                out[n, :, i, j] = v
                out[n, :, i, w + j] = (I + A) @ v
                out[n, :, h + i, j] = (I + B) @ v
                out[n, :, h + i, w + j] = {'ab': ab, 'ba': ba, 'mean': (ab + ba) / 2}[diagonal]
    return out


def slow_recursive(z, A, B):
    I = torch.eye(C, dtype=z.dtype)
    P = torch.linalg.matrix_power
    out = torch.zeros(N, C, 2 * h, 2 * w, dtype=z.dtype)
    for n in range(N):
        out[n, :, :h, :w] = z[n]
        for i in range(h):
            for j in range(w):
                right_ij = P(I + A, j + 1) @ z[n, :, i, w - 1]
                out[n, :, i, w + j] = right_ij
                out[n, :, h + i, j] = P(I + B, i + 1) @ z[n, :, h - 1, j]
                right_last_row = P(I + A, j + 1) @ z[n, :, h - 1, w - 1]
                out[n, :, h + i, w + j] = P(I + B, i + 1) @ right_last_row
    return out


def slow_finola(z, A, B):
    def steps(v, M, k):
        for _ in range(k):
            v = v + M @ _ln(v)
        return v

    out = torch.zeros(N, C, 2 * h, 2 * w, dtype=z.dtype)
    for n in range(N):
        out[n, :, :h, :w] = z[n]
        for i in range(h):
            for j in range(w):
                out[n, :, i, w + j] = steps(z[n, :, i, w - 1], A, j + 1)
                out[n, :, h + i, j] = steps(z[n, :, h - 1, j], B, i + 1)
                out[n, :, h + i, w + j] = steps(steps(z[n, :, h - 1, w - 1], A, j + 1), B,
                                                i + 1)
    return out


@pytest.fixture
def zab():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(N, C, h, w, generator=g, dtype=torch.float64)
    A = 0.3 * torch.randn(C, C, generator=g, dtype=torch.float64)
    B = 0.3 * torch.randn(C, C, generator=g, dtype=torch.float64)
    return z, A, B


@pytest.mark.parametrize('diagonal', ['ab', 'ba', 'mean'])
def test_block_matches_loop(zab, diagonal):
    z, A, B = zab
    torch.testing.assert_close(heat_extrapolate(z, A, B, 'block', diagonal),
                               slow_block(z, A, B, diagonal))


@pytest.mark.parametrize('diagonal', ['ab', 'ba', 'mean'])
def test_recursive_matches_matrix_powers(zab, diagonal):
    z, A, B = zab  # ``diagonal`` only concerns block mode: the result must not change
    torch.testing.assert_close(heat_extrapolate(z, A, B, 'recursive', diagonal),
                               slow_recursive(z, A, B))


@pytest.mark.parametrize('diagonal', ['ab', 'ba', 'mean'])
def test_finola_matches_loop(zab, diagonal):
    z, A, B = zab
    torch.testing.assert_close(heat_extrapolate(z, A, B, 'finola', diagonal),
                               slow_finola(z, A, B))


def test_diagonal_orders_differ_when_a_b_do_not_commute(zab):
    z, A, B = zab
    ab = heat_extrapolate(z, A, B, 'block', 'ab')[..., h:, w:]
    ba = heat_extrapolate(z, A, B, 'block', 'ba')[..., h:, w:]
    assert (ab - ba).abs().max() > 1e-3


@pytest.mark.parametrize('mode', ['block', 'recursive'])
def test_zero_init_neck_copies_the_quarter(mode):
    neck = HeatExtrapolationNeck(in_channels=C, mode=mode)
    assert neck.A.abs().sum() == 0 and neck.B.abs().sum() == 0
    z = torch.randn(N, C, h, w)
    out = neck((torch.randn(1), z))  # a backbone tuple: the last element is used
    assert out.shape == (N, C, 2 * h, 2 * w)
    if mode == 'block':  # every quarter is the visible one
        for quarter in (out[..., :h, :w], out[..., :h, w:], out[..., h:, :w], out[..., h:, w:]):
            torch.testing.assert_close(quarter, z)
    else:  # the border is copied outwards
        torch.testing.assert_close(out[..., :h, w:], z[..., w - 1:].expand(-1, -1, -1, w))
        torch.testing.assert_close(out[..., h:, :w], z[..., h - 1:, :].expand(-1, -1, h, -1))


def test_projection_and_parameter_shapes():
    neck = HeatExtrapolationNeck(in_channels=8, proj_channels=4)
    assert neck.A.shape == neck.B.shape == (4, 4)
    assert sum(p.numel() for p in neck.parameters()) == 2 * 16 + 8 * 4 + 4
    x = torch.randn(2, 8, 2, 3)
    out = neck(x)
    assert out.shape == (2, 4, 4, 6)
    projected = neck.proj(x)
    torch.testing.assert_close(out[..., :2, :3], projected)
    torch.testing.assert_close(out[..., 2:, 3:], projected)  # zero A, B: a copy


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be one of .*'block'"):
        HeatExtrapolationNeck(4, mode='heat')
    with pytest.raises(ValueError, match="diagonal must be one of"):
        HeatExtrapolationNeck(4, diagonal='xy')
    for mode in ('recursive', 'finola'):
        with pytest.raises(ValueError, match=f"diagonal='ab' does nothing in mode='{mode}'"):
            HeatExtrapolationNeck(4, mode=mode, diagonal='ab')
    with pytest.raises(ValueError, match='expects N x 4 x h x w'):
        HeatExtrapolationNeck(4)(torch.randn(1, 3, 2, 2))
