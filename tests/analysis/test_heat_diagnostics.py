"""qbheat_mm.analysis.heat_diagnostics: measurements on maps and matrices with known answers."""
import math
from pathlib import Path

import pytest
import torch

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.analysis import heat_diagnostics as hd
from qbheat_mm.models.necks.heat_extrapolation_neck import _march

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'
C, N, H, W = 6, 8, 8, 8


def orthogonal(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q


def horizontally_linear_map(step: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """z(i, j) = step^j z0(i) with an independent random z0 per row and image: dz/dx is
    exactly linear in z, dz/dy is unrelated to z."""
    g = torch.Generator().manual_seed(seed)
    z0 = torch.randn(N, C, H, generator=g, dtype=torch.float64)
    cols = [z0]
    for _ in range(W - 1):
        cols.append(torch.einsum('dc,nch->ndh', step, cols[-1]))
    return torch.stack(cols, dim=-1)  # N x C x H x W


def random_map(seed: int = 0, n: int = N) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, C, H, W, generator=g, dtype=torch.float64)


def test_exactly_linear_map_is_explained_and_independent_cells_are_not():
    Q = orthogonal(C, 0)  # I + A = Q: norms stay put, so no step blows up
    maps = horizontally_linear_map(Q)
    fit, test = maps[0::2], maps[1::2]
    x, y = hd.linearity(fit, test, 'x'), hd.linearity(fit, test, 'y')
    assert x['r2'] == pytest.approx(1, abs=1e-6)
    # the position mean of an exactly linear map is linear too: centring keeps R^2 = 1
    assert x['r2_centred'] == pytest.approx(1, abs=1e-6)
    assert abs(y['r2']) < 0.1
    # the mean of 4 independent fits adds a quarter of the variance: R^2 about -1/4
    assert y['r2_position'] == pytest.approx(-0.25, abs=0.1)
    assert x['pairs_fit'] == 4 * H * (W - 2) and x['pairs_test'] == 4 * H * (W - 2)

    noise = random_map(1, n=32)
    for axis in hd.AXES:
        r = hd.linearity(noise[0::2], noise[1::2], axis)
        assert abs(r['r2']) < 0.05 and abs(r['r2_centred']) < 0.05
    # the forward difference would explain half of independent cells (its -z part): the
    # reason the linearity test uses central differences
    X, D = hd.cell_pairs(noise[1::2], 'x', 1, 'forward')
    assert hd.explained_fraction(D, -X) == pytest.approx(0.5, abs=0.05)


def test_a_shared_position_pattern_is_told_apart_from_linearity():
    pattern = random_map(2, n=1)
    maps = pattern + 0.01 * random_map(3, n=16)  # every image: the same map, plus noise
    r = hd.linearity(maps[0::2], maps[1::2], 'x')
    assert r['r2_position'] > 0.999
    assert abs(r['r2_centred']) < 0.1


def test_operator_step_fraction_and_extrapolation_of_the_true_operator():
    Q = orthogonal(C, 0)
    A = Q - torch.eye(C, dtype=torch.float64)
    test = horizontally_linear_map(Q, seed=1)
    assert hd.operator_step_fraction(test, A, 'x', 1) == pytest.approx(1, abs=1e-9)
    zeros = torch.zeros(C, C, dtype=torch.float64)
    assert abs(hd.operator_step_fraction(test, zeros, 'x', 1)) < 0.05  # copy scores ~0
    learned = hd.extrapolation_errors(test, A, 'x')
    copy = hd.extrapolation_errors(test, zeros, 'x')
    assert list(learned) == list(range(1, W))
    assert max(learned.values()) < 1e-12
    assert min(copy.values()) > 0.5
    # a block operator of two cells: (I + A)^2 is the step, predictions every 2 cells
    A2 = Q @ Q - torch.eye(C, dtype=torch.float64)
    two = hd.extrapolation_errors(test, A2, 'x', step=2)
    assert list(two) == [2, 4, 6] and max(two.values()) < 1e-12
    assert hd.operator_step_fraction(test, A2, 'x', 2) == pytest.approx(1, abs=1e-9)


def test_finola_steps_are_scored_with_the_layer_norm():
    g = torch.Generator().manual_seed(4)
    A = 0.1 * torch.randn(C, C, generator=g, dtype=torch.float64)
    start = torch.randn(N, C, H, generator=g, dtype=torch.float64)
    maps = torch.cat([start[..., None], _march(start, A, W - 1, True, dim=-1)], dim=-1)
    assert hd.operator_step_fraction(maps, A, 'x', 1, finola=True) == pytest.approx(1, abs=1e-9)
    assert hd.operator_step_fraction(maps, A, 'x', 1, finola=False) < 0.99
    assert max(hd.extrapolation_errors(maps, A, 'x', finola=True).values()) < 1e-12


def test_position_errors_by_distance():
    pattern = random_map(2, n=1)
    maps = pattern + 0.1 * random_map(3, n=8)
    errors = hd.position_errors(maps[0::2], maps[1::2], 'y')
    assert list(errors) == list(range(1, H))
    assert max(errors.values()) < 0.05  # the position mean is nearly the whole map


def test_fit_linear_map_recovers_a_known_map():
    g = torch.Generator().manual_seed(5)
    M = torch.randn(C, C, generator=g, dtype=torch.float64)
    X = [torch.randn(50, C, generator=g, dtype=torch.float64) for _ in range(2)]
    fitted, alpha = hd.fit_linear_map([(x, x @ M.T) for x in X])
    assert alpha == hd.RIDGE_ALPHAS[0]
    torch.testing.assert_close(fitted, M, atol=1e-4, rtol=0)


def test_step_spectrum_of_a_known_matrix():
    A = torch.zeros(5, 5, dtype=torch.float64)
    A[0, 0], A[1, 1], A[2, 2] = 1., -0.5, 0.  # I + A: 2, 0.5, 1
    A[3, 4], A[4, 3] = -1., 1.  # I + A: [[1, -1], [1, 1]], eigenvalues 1 +- i
    info, eig = hd.step_spectrum(A)
    assert info == dict(spectral_radius=pytest.approx(2), min_modulus=pytest.approx(0.5),
                        unstable=3, size=5, cond=pytest.approx(4), norm=pytest.approx(2))
    assert sorted(abs(eig).round(6).tolist()) == [0.5, 1, round(math.sqrt(2), 6),
                                                  round(math.sqrt(2), 6), 2]


def test_heat_coefficient_of_commuting_pairs():
    A = torch.diag(torch.tensor([1., 2., 3.], dtype=torch.float64))
    B = torch.diag(torch.tensor([1., 1., 2.], dtype=torch.float64))
    info, S = hd.heat_coefficient(A, B)
    expected = -torch.diag(torch.tensor([1., 4., 2.25], dtype=torch.float64))
    torch.testing.assert_close(S, expected)
    assert info['exists'] and info['cond_B'] == pytest.approx(2)
    assert info['cond_B2'] == pytest.approx(4)
    assert info['norm_S'] == pytest.approx(4) and info['cond_S'] == pytest.approx(4)
    assert hd.commutator(A, B) == dict(norm=0., relative=0.)

    B = orthogonal(4, 6) + 2 * torch.eye(4, dtype=torch.float64)  # invertible, A = 2B
    info, S = hd.heat_coefficient(2 * B, B)
    torch.testing.assert_close(S, -4 * torch.eye(4, dtype=torch.float64))
    assert info['cond_S'] == pytest.approx(1)


def test_singular_b_has_no_heat_coefficient():
    zeros = torch.zeros(3, 3, dtype=torch.float64)
    info, S = hd.heat_coefficient(torch.eye(3, dtype=torch.float64), zeros)
    assert S is None and not info['exists']
    assert info['cond_B'] == math.inf and info['cond_B2'] == math.inf
    nearly = torch.diag(torch.tensor([1., 1., 1e-5], dtype=torch.float64))  # B^2: cond 1e10
    info, S = hd.heat_coefficient(zeros, nearly)
    assert S is None and info['cond_B'] == pytest.approx(1e5)


def test_commutator_is_the_gap_between_the_diagonal_orders():
    g = torch.Generator().manual_seed(7)
    A, B = (0.3 * torch.randn(C, C, generator=g, dtype=torch.float64) for _ in range(2))
    maps = random_map(8)
    info = hd.commutator(A, B, maps)
    comm = A @ B - B @ A
    assert info['norm'] == pytest.approx(float(torch.linalg.matrix_norm(comm)))
    assert 0 < info['relative'] <= 1
    I = torch.eye(C, dtype=torch.float64)
    ab = torch.einsum('dc,nchw->ndhw', (I + B) @ (I + A), maps)
    gap = torch.einsum('dc,nchw->ndhw', comm, maps)  # (I+B)(I+A) - (I+A)(I+B) = BA - AB
    assert info['diagonal_gap'] == pytest.approx(float(gap.norm() / ab.norm()))


def test_diagnose_summary_and_its_input_checks():
    Q = orthogonal(C, 0)
    maps = horizontally_linear_map(Q)
    op = hd.HeatOperator(Q - torch.eye(C, dtype=torch.float64),
                         torch.zeros(C, C, dtype=torch.float64), 'recursive', 1)
    diag = hd.diagnose(maps, op)
    s = diag.summary
    assert (s['images'], s['fit_images'], s['test_images'], s['channels'],
            s['map_size']) == (N, 4, 4, C, [H, W])
    assert s['operator']['step_fraction']['x']['learned'] == pytest.approx(1, abs=1e-9)
    assert abs(s['operator']['step_fraction']['y']['learned']) < 0.1  # B = 0: copy
    assert s['operator']['spectrum']['x']['spectral_radius'] == pytest.approx(1)
    assert not s['operator']['heat_coefficient']['exists']
    assert set(s['extrapolation']['x']) == {'copy', 'position', 'fitted', 'fitted_ridge_alpha',
                                            'learned'}
    assert sorted(diag.eigenvalues) == ['x', 'y'] and diag.eigenvalues['x'].shape == (C, )
    assert hd.diagnose(maps).summary['operator'] is None

    proj = torch.nn.Conv2d(C, 3, kernel_size=1)  # the neck's optional projection C -> C'
    small = hd.HeatOperator(torch.zeros(3, 3), torch.zeros(3, 3), 'finola', 1, proj)
    s = hd.diagnose(maps.float(), small).summary
    assert (s['operator']['channels'], s['operator']['projected']) == (3, True)
    assert s['channels'] == C and proj.weight.dtype == torch.float32  # proj left as it was
    assert s['operator']['step_fraction']['x']['learned'] == pytest.approx(0, abs=0.1)

    with pytest.raises(ValueError, match='at least 4 images'):
        hd.diagnose(maps[:3])
    with pytest.raises(ValueError, match='a 2 x 2 map has no interior cell'):
        hd.diagnose(maps[..., :2, :2])
