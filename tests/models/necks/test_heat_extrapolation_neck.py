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


def test_free_mode_gives_each_quarter_its_own_projection(zab):
    """``free``: right (I + A) z, bottom (I + B) z, diagonal (I + D) z, cell by cell; block
    mode is the free mode with D tied to (I + B)(I + A) - I."""
    z, A, B = zab
    D = torch.randn(C, C, dtype=z.dtype) * 0.3
    free = heat_extrapolate(z, A, B, 'free', D=D)
    I = torch.eye(C, dtype=z.dtype)
    for quarter, M in ((free[..., :h, :w], 0 * I), (free[..., :h, w:], A),
                       (free[..., h:, :w], B), (free[..., h:, w:], D)):
        torch.testing.assert_close(quarter, z + torch.einsum('dc,nchw->ndhw', M, z))
    tied = heat_extrapolate(z, A, B, 'free', D=(I + B) @ (I + A) - I)
    torch.testing.assert_close(tied, heat_extrapolate(z, A, B, 'block', 'ab'))


def test_free_neck_learns_three_projections_and_nothing_else_changes():
    neck = HeatExtrapolationNeck(in_channels=C, mode='free')
    assert neck.D.shape == (C, C) and neck.D.abs().sum() == 0 and neck.D.requires_grad
    z = torch.randn(N, C, h, w)
    out = neck(z)
    for quarter in (out[..., :h, w:], out[..., h:, :w], out[..., h:, w:]):
        torch.testing.assert_close(quarter, z)  # zero init copies, as block does
    out[..., h:, w:].sum().backward()  # the diagonal quarter's gradient reaches D only
    assert neck.D.grad.abs().sum() > 0 and neck.A.grad.abs().sum() == 0
    frozen = HeatExtrapolationNeck(in_channels=C, mode='free', freeze_operator=True)
    assert not any(p.requires_grad for p in (frozen.A, frozen.B, frozen.D))
    # The other modes' checkpoints keep their keys: D exists in free mode only.
    assert 'D' not in HeatExtrapolationNeck(in_channels=C).state_dict()
    assert set(neck.state_dict()) == {'A', 'B', 'D'}
    with pytest.raises(ValueError, match="D is the diagonal projection of mode='free'"):
        heat_extrapolate(z, neck.A, neck.B, 'block', D=neck.D)
    with pytest.raises(ValueError, match="mode='free' with D missing"):
        heat_extrapolate(z, neck.A, neck.B, 'free')
    with pytest.raises(ValueError, match=f'D must be {C} x {C} for {C} channels, got \\(2, 2\\)'):
        heat_extrapolate(z, neck.A, neck.B, 'free', D=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="diagonal='mean' does nothing in mode='free'"):
        HeatExtrapolationNeck(C, mode='free', diagonal='mean')
