"""A converged linear probe: multinomial logistic regression on frozen features.

The protocol of the CLIP paper's linear probes (Radford et al. 2021, appendix A.3), on
features extracted once: an L2-regularised multinomial logistic regression solved to
convergence with L-BFGS, its regularisation strength chosen on the training split only
(here by stratified k-fold cross-validation), then refitted on the whole training split
and scored once on the held-out images. Features are standardised with the training
split's per-dimension mean and standard deviation first.

The objective, for weights W (D x K) and bias b (K), is

    mean_i CE(softmax(x_i W + b), y_i) + (l2 / 2) ||W||_F^2

(the bias is not penalised), minimised in float64 by PyTorch's L-BFGS with a strong-Wolfe
line search. Every fit records its evidence of convergence: iterations, the final gradient's
largest component, whether the solver met its tolerance.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ['standardise', 'fit_logistic', 'predict', 'stratified_folds', 'linear_probe']


def standardise(train: np.ndarray, *others: np.ndarray, eps: float = 1e-8):
    """``train`` and ``others`` z-scored with ``train``'s per-column mean and std (a
    constant column becomes 0)."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > eps, std, 1.0)
    return tuple((x - mean) / std for x in (train, *others))


def fit_logistic(x: np.ndarray, y: np.ndarray, num_classes: int, l2: float,
                 max_iter: int = 1000, tol: float = 1e-4,
                 init: tuple | None = None) -> dict:
    """Minimise the regularised cross-entropy over ``x`` (N x D), ``y`` (N,) with L-BFGS.

    With more dimensions than samples the problem is solved in the row space of ``x``
    (its thin SVD, ``x = U S V^T``): the gradient of the loss in W is ``x^T R``, so from
    W = 0 every iterate and the optimum are ``V Z``, and the problem in Z (features
    ``U S``, penalty ``||Z||^2 = ||W||^2``) is the same problem in at most N dimensions.

    Args:
        x, y: Features and integer labels in ``[0, num_classes)``.
        num_classes: K.
        l2: The L2 strength (``l2 > 0``).
        max_iter: Iteration cap of the solver.
        tol: Converged when the gradient's largest component is at most ``tol``.
        init: ``(w, b)`` of an earlier fit on the same ``x`` to start from (a warm
            start), else zeros.

    Returns:
        dict(w (D x K), b (K,), loss, iterations, grad_max, converged).
    """
    if l2 <= 0:
        raise ValueError(f'l2 must be positive, got {l2}')
    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f'expected N x D features and N labels, got {tuple(x.shape)} and '
                         f'{tuple(y.shape)}')
    basis = None
    if x.shape[1] > x.shape[0]:
        u, s, vh = torch.linalg.svd(x, full_matrices=False)
        x, basis = u * s, vh  # x V = U S
    z = torch.zeros(x.shape[1], num_classes, dtype=torch.float64)
    b = torch.zeros(num_classes, dtype=torch.float64)
    if init is not None:
        w0, b0 = (torch.as_tensor(v, dtype=torch.float64) for v in init)
        z, b = (w0 if basis is None else basis @ w0).clone(), b0.clone()
    z.requires_grad_(True)
    b.requires_grad_(True)
    optimizer = torch.optim.LBFGS([z, b], lr=1, max_iter=max_iter, tolerance_grad=tol,
                                  tolerance_change=0., history_size=20,
                                  line_search_fn='strong_wolfe')

    def objective():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ z + b, y) + 0.5 * l2 * (z * z).sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    loss = objective()
    grad_max = float(max(z.grad.abs().max(), b.grad.abs().max()))
    state = optimizer.state[optimizer._params[0]]
    w = z.detach() if basis is None else basis.T @ z.detach()
    return dict(w=w.numpy(), b=b.detach().numpy(), loss=float(loss.detach()),
                iterations=int(state.get('n_iter', 0)), grad_max=grad_max,
                converged=grad_max <= tol)


def predict(fit: dict, x: np.ndarray) -> np.ndarray:
    """Class scores (logits) of ``x`` under a fit of :func:`fit_logistic`."""
    return np.asarray(x, dtype=np.float64) @ fit['w'] + fit['b']


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """``folds`` disjoint index sets covering ``y``, each holding every class in about
    equal share (the order within a class drawn with ``seed``)."""
    rng = np.random.default_rng(seed)
    out = [[] for _ in range(folds)]
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        for i, index in enumerate(members):
            out[i % folds].append(index)
    return [np.sort(np.array(f, dtype=int)) for f in out]


def _cross_entropy(scores: np.ndarray, y: np.ndarray) -> float:
    scores = scores - scores.max(axis=1, keepdims=True)
    log_prob = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return float(-log_prob[np.arange(len(y)), y].mean())


def linear_probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                 test_y: np.ndarray, num_classes: int, l2_grid: Sequence[float],
                 folds: int = 5, max_iter: int = 1000, tol: float = 1e-4,
                 refit_max_iter: int | None = None, seed: int = 0) -> dict:
    """Top-1 (%) on ``test`` of the logistic regression whose L2 strength won a
    ``folds``-fold cross-validation on ``train`` (mean fold accuracy; ties: the lower
    mean fold cross-entropy, then the larger strength), refitted on all of ``train``.

    Each cross-validation fit runs at most ``max_iter`` iterations, the final fit at most
    ``refit_max_iter`` (default ``10 * max_iter``), to the gradient tolerance ``tol``.
    ``test`` is touched once, by the final fit. Returns the accuracy, the chosen L2, the
    cross-validation table, and the evidence of the final fit (iterations, largest
    gradient component, converged) and of the folds (fits that did not converge).
    """
    grid = sorted(float(v) for v in l2_grid)
    if not grid or grid[0] <= 0:
        raise ValueError(f'l2_grid must hold positive strengths, got {list(l2_grid)}')
    train_x, test_x = standardise(np.asarray(train_x, np.float64),
                                  np.asarray(test_x, np.float64))
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    parts = stratified_folds(train_y, folds, seed)
    cv = []
    unconverged = 0
    warm = [None] * folds
    for l2 in reversed(grid):  # strong to weak: each fit starts from the stronger one's
        accs, losses = [], []
        for i, held in enumerate(parts):
            fit_idx = np.setdiff1d(np.arange(len(train_y)), held)
            fx, hx = standardise(train_x[fit_idx], train_x[held])
            fit = fit_logistic(fx, train_y[fit_idx], num_classes, l2, max_iter, tol, warm[i])
            warm[i] = fit['w'], fit['b']
            unconverged += not fit['converged']
            scores = predict(fit, hx)
            accs.append(float((scores.argmax(1) == train_y[held]).mean() * 100))
            losses.append(_cross_entropy(scores, train_y[held]))
        cv.append(dict(l2=l2, accuracy=float(np.mean(accs)), cross_entropy=float(np.mean(losses))))
    cv.sort(key=lambda r: r['l2'])
    best = max(cv, key=lambda r: (r['accuracy'], -r['cross_entropy'], r['l2']))
    final = fit_logistic(train_x, train_y, num_classes, best['l2'],
                         refit_max_iter or 10 * max_iter, tol)
    top1 = float((predict(final, test_x).argmax(1) == test_y).mean() * 100)
    return dict(top1=top1, l2=best['l2'], cv=cv,
                at_grid_edge=best['l2'] in (grid[0], grid[-1]),
                iterations=final['iterations'], grad_max=final['grad_max'],
                converged=final['converged'], train_loss=final['loss'],
                cv_fits=len(grid) * folds, cv_unconverged=int(unconverged))
