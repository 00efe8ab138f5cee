"""When the heat operator constrains anything (docs/en/method.md, "When the heat operator
binds"), checked numerically on the real neck.

In ``block`` mode the masked quarters get (I + A) z, (I + B) z and (I + B)(I + A) z, and
the decoder's first operation is one Linear E: C -> D shared by the quarters. With
D <= C / 2, E(I + A), E(I + B) and E(I + B)(I + A) can be any three D x C matrices: the
construction below realises them to float64 precision, so block mode is per-quarter
linear decoding. With D >= C the operator is forced and the third product is not free;
in ``recursive`` and ``finola`` mode a masked cell depends on the visible border only,
so no choice of A, B gives each masked cell a projection of its own visible cell.
"""
import numpy as np
import pytest
import torch

from qbheat_mm.models.necks.heat_extrapolation_neck import HeatExtrapolationNeck


def realise(E: np.ndarray, M1: np.ndarray, M2: np.ndarray, M3: np.ndarray):
    """A, B with E(I + A) = M1, E(I + B) = M2 and E(I + B)(I + A) = M3 (D <= C / 2).

    I + B = E+ M2 gives E(I + B) = M2 (E has full row rank). I + A = E+ M1 + K X, with K
    spanning null(E), gives E(I + A) = M1 for any X, and E(I + B)(I + A) =
    M2 E+ M1 + M2 K X: M2 K (D x (C - D)) has full row rank when D <= C - D, so
    X = (M2 K)+ (M3 - M2 E+ M1) solves it exactly.
    """
    C = E.shape[1]
    pinv = np.linalg.pinv(E)
    _, _, vt = np.linalg.svd(E)
    K = vt[E.shape[0]:].T  # C x (C - D), E K = 0
    X = np.linalg.pinv(M2 @ K) @ (M3 - M2 @ pinv @ M1)
    return pinv @ M1 + K @ X - np.eye(C), pinv @ M2 - np.eye(C)


def neck_with(A: np.ndarray, B: np.ndarray, mode: str = 'block') -> HeatExtrapolationNeck:
    neck = HeatExtrapolationNeck(in_channels=A.shape[0], mode=mode).double()
    with torch.no_grad():
        neck.A.copy_(torch.from_numpy(A))
        neck.B.copy_(torch.from_numpy(B))
    return neck


def quarters(F: torch.Tensor) -> dict:
    h, w = F.shape[-2] // 2, F.shape[-1] // 2
    return dict(right=F[..., :h, w:], bottom=F[..., h:, :w], diagonal=F[..., h:, w:])


@pytest.mark.parametrize('C, D', [(48, 16), (64, 32), (1152 // 8, 256 // 8)])
def test_the_default_block_config_realises_any_three_projections(C, D):
    """The default: Mobile-Former-294M's 1152 channels into a 256-wide decoder (here at an
    eighth of both, the same ratio), and D = C / 2, the limit of the construction."""
    rng = np.random.default_rng(0)
    E = rng.normal(size=(D, C))
    targets = dict(right=rng.normal(size=(D, C)), bottom=rng.normal(size=(D, C)),
                   diagonal=rng.normal(size=(D, C)))
    A, B = realise(E, targets['right'], targets['bottom'], targets['diagonal'])
    neck = neck_with(A, B)
    z = torch.from_numpy(rng.normal(size=(2, C, 2, 2)))
    with torch.no_grad():
        F = neck(z)
    for name, quarter in quarters(F).items():  # E on each predicted cell
        decoded = torch.einsum('dc,nchw->ndhw', torch.from_numpy(E), quarter)
        wanted = torch.einsum('dc,nchw->ndhw', torch.from_numpy(targets[name]), z)
        error = float((decoded - wanted).norm() / wanted.norm())
        assert error < 1e-9, (name, error)


def test_a_decoder_input_as_wide_as_the_operator_forces_it():
    """D >= C: E is injective, so E(I + A) = M1 and E(I + B) = M2 fix A and B, and the
    diagonal quarter's product is then determined: a generic third target is missed by
    an error of the order of the target itself."""
    rng = np.random.default_rng(1)
    C, D = 24, 32
    E = rng.normal(size=(D, C))
    M1, M2 = E @ rng.normal(size=(C, C)), E @ rng.normal(size=(C, C))  # reachable pair
    M3 = rng.normal(size=(D, C))
    pinv = np.linalg.pinv(E)
    IA, IB = pinv @ M1, pinv @ M2  # the only solution of the first two
    np.testing.assert_allclose(E @ IA, M1, atol=1e-9)
    np.testing.assert_allclose(E @ IB, M2, atol=1e-9)
    error = np.linalg.norm(E @ IB @ IA - M3) / np.linalg.norm(M3)
    assert error > 0.5


@pytest.mark.parametrize('mode', ['recursive', 'finola'])
def test_in_recursive_and_finola_mode_a_masked_cell_sees_the_border_only(mode):
    """Block mode predicts each masked cell from its own visible cell, with any
    projection (above). Recursive and FINOLA steps start from the visible quarter's
    border: the right quarter's cells do not depend on the visible cells left of the
    border, whatever A and B are, so no choice realises per-cell projections."""
    rng = np.random.default_rng(2)
    C = 16
    A, B = rng.normal(size=(C, C)) * 0.1, rng.normal(size=(C, C)) * 0.1
    z = torch.from_numpy(rng.normal(size=(1, C, 2, 2))).requires_grad_(True)
    for kind in ('block', mode):
        F = neck_with(A, B, kind)(z)
        right_first = quarters(F)['right'][0, :, 0, 0]  # right quarter, row 0, column 0
        grad, = torch.autograd.grad(right_first.sum(), z)
        own = float(grad[0, :, 0, 0].abs().sum())  # the visible cell (0, 0)
        border = float(grad[0, :, 0, 1].abs().sum())  # the border cell (0, w - 1)
        if kind == 'block':
            assert own > 0 and border == 0
        else:
            assert own == 0 and border > 0


def test_the_default_block_config_decodes_what_the_free_mode_decodes():
    """The ablation's prediction, checked before it runs: whatever three projections the
    ``free`` neck (no heat prior) learns, a block neck's A, B give the decoder's first
    Linear the same input, so at the default width the two arms must train alike."""
    rng = np.random.default_rng(2)
    C, D = 1152 // 8, 256 // 8
    E = rng.normal(size=(D, C))
    free = HeatExtrapolationNeck(in_channels=C, mode='free').double()
    with torch.no_grad():
        for p in (free.A, free.B, free.D):
            p.copy_(torch.from_numpy(rng.normal(size=(C, C)) / np.sqrt(C)))
    I = np.eye(C)
    A, B = realise(E, *(E @ (I + p.detach().numpy()) for p in (free.A, free.B, free.D)))
    block = neck_with(A, B)
    z = torch.from_numpy(rng.normal(size=(2, C, 2, 2)))
    with torch.no_grad():
        decoded = [torch.einsum('dc,nchw->ndhw', torch.from_numpy(E), neck(z))
                   for neck in (free, block)]
    error = float((decoded[0] - decoded[1]).norm() / decoded[0].norm())
    assert error < 1e-9, error
