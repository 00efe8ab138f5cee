r"""Heat-operator diagnostics: does a feature map obey QB-Heat's first-order heat equation?

The paper's hypothesis [paper]: in a good visual representation the derivatives of the
feature map z(x, y) in R^C are linear in z, dz/dx = A z and dz/dy = B z, whatever the
image, so that d2z/dx2 + S d2z/dy2 = 0 with S = -A^2 B^-2. Everything below runs on the
backbone's map of whole images, N x C x H x W, with column j along x and row i along y;
the y-axis quantities are the x-axis ones on the transposed map. Our measurements [ours]:

1. **Linearity** (any backbone). Central differences between neighbouring cells,

       D(i, j) = (z(i, j + 1) - z(i, j - 1)) / 2,

   against z(i, j): a ridge-regression map M (D ~ M z, no intercept, as in the equation)
   is fitted on half the images and scored on the other half by the explained fraction

       R^2 = 1 - sum |D - M z|^2 / sum |D - mean(D)|^2.

   R^2 = 1 for a map that satisfies the equation exactly; about 0 for a map of
   independent cells (a forward difference z(j + 1) - z(j) would score 0.5 there, half
   of it being -z itself, which is why the central difference is used). Two controls:
   what the cell's position alone explains (D predicted by its mean at that position,
   over the fitting half: zero padding gives every image the same border pattern, and
   z reveals its position, so a random backbone scores high on R^2 through that alone),
   and R^2 of the fit on maps minus that position mean (the image-dependent part).
2. **The operator** (a checkpoint with a heat neck). The step the neck takes,
   z(j + s) = (I + A) z(j) (``finola``: z + A LN(z)), where s is the number of cells the
   step covers (``block``: the quarter side at the training size; ``recursive`` and
   ``finola``: 1). It is scored on the forward difference z(j + s) - z(j) with the same
   R^2, so the copy predictor (A = 0, the frozen-operator control) scores about 0, next to
   the best linear step of s cells fitted on the other half. Then the spectra of I + A and
   I + B (largest eigenvalue modulus: above 1, repeated steps grow along that mode),
   their condition numbers, whether S = -A^2 B^-2 exists (B^2 numerically invertible)
   and its condition number, and the commutator AB - BA: the two orders of the diagonal
   quarter differ by exactly it, (I + B)(I + A) - (I + A)(I + B) = BA - AB.
3. **Extrapolation against distance**. From every cell, k steps of the operator predict
   the cell at distance d = k s; the error is normalised by the spread of the targets,

       e(d) = sum |pred - z(j + d)|^2 / sum |z(j + d) - mu|^2   (mu: mean feature),

   so e = 1 is as good as predicting the mean feature. Shown next to copying the start
   cell, the mean feature at the target position, and unit steps of the best linear
   one-cell step fitted on the other half.

This module is the maths, on tensors: feature maps in, numbers out. Getting the maps and
the operator from a config and a checkpoint is :mod:`qbheat_mm.analysis.heat_inputs`.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from qbheat_mm.models.necks.heat_extrapolation_neck import _march, heat_extrapolate

AXES = ('x', 'y')
#: Ridge strengths, relative to the mean eigenvalue of z^T z; the fit picks one by
#: leave-one-fold-out error on the fitting half (there are about as many cell pairs as
#: channels, so plain least squares would interpolate).
RIDGE_ALPHAS = tuple(10.0**k for k in range(-6, 3))
#: Beyond this condition number B^2 counts as singular, so S does not exist: the weights
#: are float32, whose rounding alone can change the inverse of a worse-conditioned matrix.
MAX_COND = float(1 / np.finfo(np.float32).eps)
MIN_IMAGES = 4  # two to fit (in two folds for the ridge choice), two to score


@dataclass
class HeatOperator:
    """A heat neck's learned operator, as the diagnostics use it.

    Args:
        A (torch.Tensor): Horizontal operator, C x C.
        B (torch.Tensor): Vertical operator, C x C.
        mode (str): The neck's mode (``'block'``, ``'recursive'`` or ``'finola'``).
        step (int): Cells one step of A or B covers.
        proj (nn.Module, optional): The neck's 1 x 1 projection, applied to encoder maps
            before the operator.
    """
    A: torch.Tensor
    B: torch.Tensor
    mode: str
    step: int
    proj: Optional[nn.Module] = None

    @property
    def finola(self) -> bool:
        return self.mode == 'finola'


@dataclass
class Diagnostics:
    """What :func:`diagnose` measured: ``summary`` (JSON-able) and the eigenvalues of
    I + A and I + B (``{'x': ..., 'y': ...}``, complex arrays; empty without operator)."""
    summary: dict
    eigenvalues: dict = field(default_factory=dict)


# -- cell pairs and linear fits --------------------------------------------------------
def along_x(maps: torch.Tensor, axis: str) -> torch.Tensor:
    """The map with the derivative's axis last: as is for ``'x'``, transposed for ``'y'``."""
    if axis not in AXES:
        raise ValueError(f'axis must be one of {AXES}, got {axis!r}')
    return maps if axis == 'x' else maps.transpose(2, 3)


def _rows(t: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> (N H W) x C."""
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])


def cell_pairs(maps: torch.Tensor, axis: str, step: int = 1,
               kind: str = 'central') -> tuple[torch.Tensor, torch.Tensor]:
    """Cells z and their differences D along ``axis``, as n x C rows each.

    ``kind='central'``: D(j) = (z(j + step) - z(j - step)) / 2 at interior cells;
    ``kind='forward'``: D(j) = z(j + step) - z(j).
    """
    z = along_x(maps, axis)
    W = z.shape[-1]
    if kind == 'central':
        if W <= 2 * step:
            raise ValueError(f'a map {W} cells long has no cell {step} away from both ends')
        D = (z[..., 2 * step:] - z[..., :W - 2 * step]) / 2
        return _rows(z[..., step:W - step]), _rows(D)
    if kind == 'forward':
        if W <= step:
            raise ValueError(f'a map {W} cells long has no pair {step} cells apart')
        return _rows(z[..., :W - step]), _rows(z[..., step:] - z[..., :W - step])
    raise ValueError(f"kind must be 'central' or 'forward', got {kind!r}")


def explained_fraction(D: torch.Tensor, P: torch.Tensor) -> float:
    """R^2 = 1 - sum |D - P|^2 / sum |D - mean(D)|^2 over rows (n x C each)."""
    total = ((D - D.mean(dim=0)) ** 2).sum()
    return float(1 - ((D - P) ** 2).sum() / total)


def _ridge_maps(X: torch.Tensor, Y: torch.Tensor,
                alphas: Sequence[float]) -> list[torch.Tensor]:
    """Ridge solutions M (Y ~ X M^T) for each relative strength, from one SVD of X."""
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    UtY = U.T @ Y
    scale = float((s**2).sum()) / X.shape[1]
    return [(Vh.T @ ((s / (s**2 + a * scale))[:, None] * UtY)).T for a in alphas]


def fit_linear_map(folds: Sequence[tuple[torch.Tensor, torch.Tensor]],
                   alphas: Sequence[float] = RIDGE_ALPHAS) -> tuple[torch.Tensor, float]:
    """Fit M with Y ~ X M^T by ridge regression on all ``folds`` (pairs X, Y).

    The ridge strength is the one with the smallest leave-one-fold-out squared error
    (the smallest strength on ties).

    Returns:
        The C_out x C_in map and the chosen relative strength.
    """
    alphas = list(alphas)
    if len(folds) >= 2 and len(alphas) > 1:
        errors = torch.zeros(len(alphas), dtype=torch.float64)
        for k, (Xk, Yk) in enumerate(folds):
            X = torch.cat([f[0] for i, f in enumerate(folds) if i != k])
            Y = torch.cat([f[1] for i, f in enumerate(folds) if i != k])
            for a, M in enumerate(_ridge_maps(X, Y, alphas)):
                errors[a] += float(((Yk - Xk @ M.T) ** 2).sum())
        best = alphas[int(torch.argmin(errors))]
    else:
        best = alphas[0]
    X = torch.cat([f[0] for f in folds])
    Y = torch.cat([f[1] for f in folds])
    return _ridge_maps(X, Y, [best])[0], best


def fit_step_map(maps: torch.Tensor, axis: str, step: int = 1, kind: str = 'central',
                 alphas: Sequence[float] = RIDGE_ALPHAS) -> tuple[torch.Tensor, float]:
    """The linear map from z to its ``kind`` difference, fitted on ``maps``.

    The images are split into two folds (even and odd indices) to choose the ridge
    strength, so no cell pair of one image helps to choose for itself.
    """
    folds = [cell_pairs(part, axis, step, kind) for part in (maps[0::2], maps[1::2])
             if part.shape[0]]
    return fit_linear_map(folds, alphas)


def position_mean(maps: torch.Tensor) -> torch.Tensor:
    """The mean map over images, 1 x C x H x W: what a cell's position alone predicts."""
    return maps.mean(dim=0, keepdim=True)


def linearity(fit_maps: torch.Tensor, test_maps: torch.Tensor, axis: str, step: int = 1,
              alphas: Sequence[float] = RIDGE_ALPHAS) -> dict:
    """Explained fraction of the central difference along ``axis`` by a linear map of z,
    fitted on ``fit_maps`` and scored on ``test_maps``.

    Returns:
        dict: ``r2``; ``r2_position``, what the cell's position alone explains (the
        difference predicted by its mean at that position over ``fit_maps``: border and
        padding patterns that every image shares); ``r2_centred``, ``r2`` on maps minus
        that position mean (the part that varies with the image); the ridge strengths
        and the numbers of cell pairs.
    """
    M, alpha = fit_step_map(fit_maps, axis, step, 'central', alphas)
    X, D = cell_pairs(test_maps, axis, step, 'central')
    mean = position_mean(fit_maps)
    _, D_pos = cell_pairs(mean, axis, step, 'central')  # one image's rows, tiled below
    M_c, alpha_c = fit_step_map(fit_maps - mean, axis, step, 'central', alphas)
    X_c, D_c = cell_pairs(test_maps - mean, axis, step, 'central')
    return dict(r2=explained_fraction(D, X @ M.T),
                r2_position=explained_fraction(D, D_pos.repeat(test_maps.shape[0], 1)),
                r2_centred=explained_fraction(D_c, X_c @ M_c.T),
                ridge_alpha=alpha, ridge_alpha_centred=alpha_c,
                pairs_fit=int(cell_pairs(fit_maps, axis, step)[0].shape[0]),
                pairs_test=int(X.shape[0]))


def _one_step(X: torch.Tensor, M: torch.Tensor, finola: bool) -> torch.Tensor:
    """One step of the neck's operator on n x C rows (the neck's own ``_march``)."""
    return _march(X, M, 1, finola, dim=-1)[..., 0]


def operator_step_fraction(maps: torch.Tensor, M: torch.Tensor, axis: str, step: int,
                           finola: bool = False) -> float:
    """Explained fraction of the forward difference z(j + step) - z(j) by one step of the
    operator, (I + M) z - z (``finola``: M LN(z)). M = 0 (copy) scores about 0."""
    X, D = cell_pairs(maps, axis, step, 'forward')
    return explained_fraction(D, _one_step(X, M, finola) - X)


def extrapolation_errors(maps: torch.Tensor, M: torch.Tensor, axis: str, step: int = 1,
                         finola: bool = False) -> dict[int, float]:
    """Normalised error of k operator steps from every cell, by distance d = k * step.

    e(d) = sum |pred - z(j + d)|^2 / sum |z(j + d) - mu|^2 (mu: the maps' mean feature),
    summed over all start cells j with j + d inside the map. M = 0 is the copy baseline.
    """
    z = along_x(maps, axis)
    W = z.shape[-1]
    mu = z.mean(dim=(0, 2, 3))[None, :, None, None]
    sse: dict[int, float] = {}
    sst: dict[int, float] = {}
    for j in range(W - step):
        k = (W - 1 - j) // step
        pred = _march(z[..., j], M, k, finola, dim=-1)  # N x C x H x k
        target = z[..., j + step::step][..., :k]
        err = ((pred - target) ** 2).sum(dim=(0, 1, 2))
        tot = ((target - mu) ** 2).sum(dim=(0, 1, 2))
        for kk in range(k):
            d = (kk + 1) * step
            sse[d] = sse.get(d, 0.) + float(err[kk])
            sst[d] = sst.get(d, 0.) + float(tot[kk])
    return {d: sse[d] / sst[d] for d in sorted(sse)}


def position_errors(fit_maps: torch.Tensor, test_maps: torch.Tensor, axis: str,
                    step: int = 1) -> dict[int, float]:
    """:func:`extrapolation_errors` of the position baseline: every target cell predicted
    by its mean at that position over ``fit_maps``, whatever the start cell."""
    z = along_x(test_maps, axis)
    pos = along_x(position_mean(fit_maps), axis)
    W = z.shape[-1]
    mu = z.mean(dim=(0, 2, 3))[None, :, None, None]
    err = ((z - pos) ** 2).sum(dim=(0, 1, 2))
    tot = ((z - mu) ** 2).sum(dim=(0, 1, 2))
    # distance d reaches the target columns d .. W - 1 (from start columns 0 .. W - 1 - d)
    return {d: float(err[d:].sum() / tot[d:].sum()) for d in range(step, W, step)}


# -- the operator itself ---------------------------------------------------------------
def _cond(singular_values: torch.Tensor) -> float:
    smallest = float(singular_values[-1])
    return float(singular_values[0]) / smallest if smallest > 0 else math.inf


def step_spectrum(M: torch.Tensor) -> tuple[dict, np.ndarray]:
    """Eigenvalues and conditioning of the step matrix I + M.

    Returns:
        A dict (``spectral_radius``: largest eigenvalue modulus; ``min_modulus``;
        ``unstable``: how many eigenvalues have modulus above 1; ``size``; ``cond``: the
        2-norm condition number; ``norm``: the largest singular value) and the
        eigenvalues as a complex array.
    """
    T = torch.eye(M.shape[0], dtype=torch.float64) + M.double()
    eig = torch.linalg.eigvals(T)
    modulus = eig.abs()
    sv = torch.linalg.svdvals(T)
    info = dict(spectral_radius=float(modulus.max()), min_modulus=float(modulus.min()),
                unstable=int((modulus > 1 + 1e-9).sum()), size=int(M.shape[0]),
                cond=_cond(sv), norm=float(sv[0]))
    return info, eig.numpy()


def heat_coefficient(A: torch.Tensor, B: torch.Tensor,
                     max_cond: float = MAX_COND) -> tuple[dict, Optional[torch.Tensor]]:
    """S = -A^2 B^-2 of d2z/dx2 + S d2z/dy2 = 0, when B^2 is numerically invertible.

    Returns:
        A dict (``exists``; ``cond_B``, ``cond_B2``; with S: ``norm_S``, ``cond_S``) and S
        (None when it does not exist).
    """
    A, B = A.double(), B.double()
    B2 = B @ B
    cond_B2 = _cond(torch.linalg.svdvals(B2))
    info = dict(exists=cond_B2 < max_cond, cond_B=_cond(torch.linalg.svdvals(B)),
                cond_B2=cond_B2, max_cond=max_cond)
    if not info['exists']:
        return info, None
    # S B^2 = -A^2, i.e. (B^2)^T S^T = -(A^2)^T.
    S = torch.linalg.solve(B2.T, -(A @ A).T).T
    sv = torch.linalg.svdvals(S)
    info.update(norm_S=float(sv[0]), cond_S=_cond(sv))
    return info, S


def commutator(A: torch.Tensor, B: torch.Tensor,
               maps: Optional[torch.Tensor] = None) -> dict:
    """How far A and B are from commuting.

    ``norm``: |AB - BA|_F; ``relative``: that over sqrt(2) |A|_F |B|_F, its largest
    possible value (Boettcher-Wenzel), so 0 = commuting, 1 = as far as matrices of these
    norms can be. With ``maps``: ``diagonal_gap``, the RMS difference of the ``block``
    diagonal quarter in its two orders ((I + B)(I + A) z against (I + A)(I + B) z, the
    neck's own :func:`heat_extrapolate`) over the RMS of the first.
    """
    A, B = A.double(), B.double()
    norm = float(torch.linalg.matrix_norm(A @ B - B @ A))
    scale = math.sqrt(2) * float(torch.linalg.matrix_norm(A) * torch.linalg.matrix_norm(B))
    info = dict(norm=norm, relative=norm / scale if scale > 0 else 0.)
    if maps is not None:
        H, W = maps.shape[-2:]
        ab = heat_extrapolate(maps.double(), A, B, 'block', 'ab')[..., H:, W:]
        ba = heat_extrapolate(maps.double(), A, B, 'block', 'ba')[..., H:, W:]
        info['diagonal_gap'] = float(torch.sqrt(((ab - ba) ** 2).sum() / (ab**2).sum()))
    return info


# -- everything ------------------------------------------------------------------------
def diagnose(maps: torch.Tensor, operator: Optional[HeatOperator] = None,
             alphas: Sequence[float] = RIDGE_ALPHAS) -> Diagnostics:
    """All three measurements on ``maps`` (N x C x H x W full-image feature maps).

    Images with even index fit the linear maps, odd ones are scored. With ``operator``,
    its measurements run on the maps after its projection (if any); the linearity and
    the copy, position and fitted curves always use the encoder's own maps.
    """
    if maps.dim() != 4:
        raise ValueError(f'maps must be N x C x H x W, got shape {tuple(maps.shape)}')
    N, C, H, W = maps.shape
    if N < MIN_IMAGES:
        raise ValueError(f'need at least {MIN_IMAGES} images (half to fit, half to score), '
                         f'got {N}')
    if min(H, W) < 3:
        raise ValueError(f'a {H} x {W} map has no interior cell for central differences; '
                         'use larger images (e.g. --img-size 256 for an 8 x 8 map at '
                         'stride 32)')
    maps = maps.double()
    fit, test = maps[0::2], maps[1::2]
    summary = dict(images=N, fit_images=fit.shape[0], test_images=test.shape[0],
                   channels=C, map_size=[H, W], linearity={}, extrapolation={},
                   operator=None)
    zeros = torch.zeros(C, C, dtype=torch.float64)
    for axis in AXES:
        summary['linearity'][axis] = linearity(fit, test, axis, 1, alphas)
        M1, alpha = fit_step_map(fit, axis, 1, 'forward', alphas)
        summary['extrapolation'][axis] = dict(
            copy=extrapolation_errors(test, zeros, axis),
            position=position_errors(fit, test, axis),
            fitted=extrapolation_errors(test, M1, axis), fitted_ridge_alpha=alpha)
    if operator is None:
        return Diagnostics(summary)

    op_maps = maps
    if operator.proj is not None:
        with torch.no_grad():  # a float64 copy: the model's own projection stays as it is
            op_maps = copy.deepcopy(operator.proj).double()(maps)
    op_fit, op_test = op_maps[0::2], op_maps[1::2]
    s = operator.step
    op = dict(mode=operator.mode, step=s, channels=int(operator.A.shape[0]),
              projected=operator.proj is not None, step_fraction={}, spectrum={})
    eigenvalues = {}
    for axis, M in zip(AXES, (operator.A.double(), operator.B.double())):
        if (W if axis == 'x' else H) > s:  # else the map holds no pair one step apart
            Ms, _ = fit_step_map(op_fit, axis, s, 'forward', alphas)
            X, D = cell_pairs(op_test, axis, s, 'forward')
            op['step_fraction'][axis] = dict(
                learned=operator_step_fraction(op_test, M, axis, s, operator.finola),
                best_linear=explained_fraction(D, X @ Ms.T))
            summary['extrapolation'][axis]['learned'] = extrapolation_errors(
                op_test, M, axis, s, operator.finola)
        op['spectrum'][axis], eigenvalues[axis] = step_spectrum(M)
    op['heat_coefficient'], _ = heat_coefficient(operator.A, operator.B)
    op['commutator'] = commutator(operator.A, operator.B, op_test)
    summary['operator'] = op
    return Diagnostics(summary, eigenvalues)
