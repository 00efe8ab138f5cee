"""The tran-1 probe on cached maps: it learns a problem the maps' cells decide, stops by
its rule on the held-out part of train, and is reproducible from its seed."""
import numpy as np
import pytest
import torch

from qbheat_mm.evaluation.tran1_probe import _holdout, tran1_probe

HEAD = dict(embed_dims=16, depth=1, num_heads=2, mlp_ratio=2, norm_input=True)


def maps(seed: int, n: int = 96, k: int = 3):
    """The class is the channel that lights up in one cell of a 2 x 2 map: the pooled
    mean hardly shows it, a token model does."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    x = torch.randn(n, 6, 2, 2, generator=g) * 0.3
    cell = torch.randint(0, 4, (n, ), generator=g)
    x.view(n, 6, 4)[torch.arange(n), y, cell] += 3.0
    return x, y.numpy()


def test_it_learns_stops_on_the_held_out_part_and_repeats():
    x, y = maps(0)
    xt, yt = maps(1)
    first = tran1_probe(x, y, xt, yt, 3, HEAD, lr=1e-2, patience=5, max_epochs=60, seed=0)
    assert first['top1'] >= 90
    assert first['stopped'] == 'patience'
    assert first['epochs'] == first['best_epoch'] + 5 or first['epochs'] == 60
    assert 1 <= first['best_epoch'] < first['epochs']
    again = tran1_probe(x, y, xt, yt, 3, HEAD, lr=1e-2, patience=5, max_epochs=60, seed=0)
    assert again == first
    capped = tran1_probe(x, y, xt, yt, 3, HEAD, lr=3e-3, patience=50, max_epochs=3, seed=0)
    assert capped['stopped'] == 'max_epochs' and capped['epochs'] == 3


def test_the_test_labels_do_not_steer_it():
    x, y = maps(0)
    xt, yt = maps(1)
    a = tran1_probe(x, y, xt, yt, 3, HEAD, lr=3e-3, patience=3, max_epochs=20, seed=1)
    b = tran1_probe(x, y, xt, np.zeros_like(yt), 3, HEAD, lr=3e-3, patience=3,
                    max_epochs=20, seed=1)
    assert (a['best_epoch'], a['epochs'], a['holdout_top1']) == (
        b['best_epoch'], b['epochs'], b['holdout_top1'])


def test_the_held_out_part_takes_a_share_of_every_class():
    y = np.repeat(np.arange(3), [10, 20, 5])
    fit, held = _holdout(y, 0.2, seed=0)
    assert np.bincount(y[held]).tolist() == [2, 4, 1]
    assert sorted(np.concatenate([fit, held])) == list(range(len(y)))
    with pytest.raises(ValueError):
        tran1_probe(torch.zeros(4, 2, 1, 1), np.zeros(4, int), torch.zeros(2, 2, 1, 1),
                    np.zeros(2, int), 1, dict(HEAD, embed_dims=15))
