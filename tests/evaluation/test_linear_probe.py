"""The converged linear probe: it reaches a known optimum, it matches an independent
implementation, and it chooses its L2 strength on the train split only."""
import numpy as np
import pytest
from scipy.optimize import brentq

from qbheat_mm.evaluation.linear_probe import (fit_logistic, linear_probe, predict,
                                               standardise, stratified_folds)


def symmetric_optimum(k: int, l2: float) -> float:
    """K classes, sample k is the unit vector e_k with label k. By symmetry the optimum
    is W = a (I - 11^T / K), b = 0, where a solves
    d/da [log(1 + (K - 1) e^-a) + (l2 / 2) a^2 (K - 1)] = 0."""
    def derivative(a):
        return -(k - 1) * np.exp(-a) / (1 + (k - 1) * np.exp(-a)) + l2 * a * (k - 1)
    return brentq(derivative, 1e-12, 1e3, xtol=1e-15)


@pytest.mark.parametrize('k, l2', [(2, 0.1), (5, 0.01), (16, 1e-3)])
def test_the_fit_reaches_a_known_optimum(k, l2):
    x, y = np.eye(k), np.arange(k)
    fit = fit_logistic(x, y, k, l2, max_iter=5000, tol=1e-9)
    a = symmetric_optimum(k, l2)
    expected = a * (np.eye(k) - np.ones((k, k)) / k)
    assert fit['converged'] and fit['grad_max'] <= 1e-9
    np.testing.assert_allclose(fit['w'], expected, atol=1e-7)
    np.testing.assert_allclose(fit['b'], 0, atol=1e-7)
    # the objective at the optimum, computed independently
    loss = np.log(1 + (k - 1) * np.exp(-a)) + 0.5 * l2 * a * a * (k - 1)
    assert fit['loss'] == pytest.approx(loss, rel=1e-12)


def test_more_dimensions_than_samples_solve_the_same_problem():
    """The row-space reduction (D > N) gives the full problem's optimum."""
    x, y = blobs(4, n=40, d=20, k=4)
    wide = np.concatenate([x, x[:, :15] * 0.5 + 0.1], axis=1)  # correlated columns
    wide = np.concatenate([wide, np.random.default_rng(0).normal(size=(40, 30))], axis=1)
    assert wide.shape[1] > wide.shape[0]
    reduced = fit_logistic(wide, y, 4, 0.05, max_iter=5000, tol=1e-8)
    # the same objective minimised in all 65 dimensions by SciPy, as an independent check
    from scipy.optimize import minimize

    onehot = np.eye(4)[y]

    def objective(theta):
        w, b = theta[:65 * 4].reshape(65, 4), theta[65 * 4:]
        logits = wide @ w + b
        logits = logits - logits.max(1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        r = (np.exp(logp) - onehot) / len(y)
        return (-(onehot * logp).sum() / len(y) + 0.025 * (w * w).sum(),
                np.concatenate([(wide.T @ r + 0.05 * w).ravel(), r.sum(0)]))

    full = minimize(objective, np.zeros(65 * 4 + 4), jac=True, method='L-BFGS-B',
                    options=dict(maxiter=20000, gtol=1e-10, ftol=0))
    assert reduced['converged']
    assert reduced['loss'] == pytest.approx(full.fun, rel=1e-8)
    np.testing.assert_allclose(reduced['w'], full.x[:65 * 4].reshape(65, 4), atol=1e-5)


def blobs(seed: int, n: int = 240, d: int = 20, k: int = 4):
    """Overlapping Gaussian classes: a problem where the L2 strength matters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.6, (k, d))
    y = np.repeat(np.arange(k), n // k)
    x = centres[y] + rng.normal(0, 1.0, (len(y), d)) * rng.uniform(0.2, 3.0, d)
    return x, y


def test_it_matches_scikit_learn_on_the_same_features():
    sklearn = pytest.importorskip('sklearn.linear_model')
    x, y = blobs(0, n=400, d=60, k=8)
    xt, yt = blobs(1, n=400, d=60, k=8)
    xt = xt[:, :x.shape[1]]
    result = linear_probe(x, y, xt, yt, 8, l2_grid=[1e-3, 1e-2, 1e-1, 1.0], folds=5)
    assert result['converged'] and result['cv_fits'] == 20
    sx, stx = standardise(x, xt)
    # scikit-learn minimises 1/2 ||W||^2 + C sum_i CE_i: C = 1 / (l2 n) is the same problem
    ref = sklearn.LogisticRegression(C=1 / (result['l2'] * len(y)), tol=1e-10,
                                     max_iter=10000).fit(sx, y)
    reference = float((ref.predict(stx) == yt).mean() * 100)
    assert abs(result['top1'] - reference) <= 1.0, (result['top1'], reference)
    mine = fit_logistic(sx, y, 8, result['l2'], max_iter=5000, tol=1e-9)
    np.testing.assert_allclose(predict(mine, stx).argmax(1), ref.predict(stx))


def test_the_l2_strength_is_chosen_on_train_only():
    x, y = blobs(2)
    xt, yt = blobs(3)
    first = linear_probe(x, y, xt, yt, 4, l2_grid=[1e-4, 1e-2, 1.0, 100.0])
    # the test labels cannot move the choice: shuffled, the same L2 is chosen
    shuffled = linear_probe(x, y, xt, np.random.default_rng(0).permutation(yt), 4,
                            l2_grid=[1e-4, 1e-2, 1.0, 100.0])
    assert first['l2'] == shuffled['l2'] and first['cv'] == shuffled['cv']
    assert [r['l2'] for r in first['cv']] == [1e-4, 1e-2, 1.0, 100.0]
    best = max(first['cv'], key=lambda r: (r['accuracy'], -r['cross_entropy'], r['l2']))
    assert first['l2'] == best['l2']
    assert first['at_grid_edge'] == (first['l2'] in (1e-4, 100.0))


def test_folds_are_stratified_disjoint_and_cover_the_split():
    y = np.repeat(np.arange(4), [10, 10, 5, 15])
    folds = stratified_folds(y, 5, seed=0)
    assert sorted(np.concatenate(folds)) == list(range(len(y)))
    for f in folds:
        assert np.bincount(y[f], minlength=4).tolist() == [2, 2, 1, 3]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match='l2 must be positive'):
        fit_logistic(np.eye(2), np.arange(2), 2, 0.0)
    with pytest.raises(ValueError, match='l2_grid must hold positive'):
        linear_probe(np.eye(2), np.arange(2), np.eye(2), np.arange(2), 2, l2_grid=[])
