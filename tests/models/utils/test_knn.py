"""The weighted k-NN vote against hand-computed cases, and KNNClassifier in a test loop."""
import math

import pytest
import torch

from qbheat_mm.models.utils.knn import knn_scores, pooled, top1


def test_weighted_vote_matches_a_hand_computed_case():
    # bank: (1, 0) of class 0, (0, 1) and (3, 3) of class 1; query (2, 0)
    bank = torch.tensor([[1., 0.], [0., 1.], [3., 3.]])
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[2., 0.]])
    T = 0.5
    # cosines: 1, 0, 1/sqrt(2); k = 2 keeps the first and the third
    w0, w2 = math.exp(1 / T), math.exp(1 / math.sqrt(2) / T)
    scores = knn_scores(bank, labels, query, num_classes=3, k=2, temperature=T)
    assert scores[0].tolist() == pytest.approx([w0 / (w0 + w2), w2 / (w0 + w2), 0.])
    # k = 3 adds the orthogonal sample with weight exp(0) = 1
    scores = knn_scores(bank, labels, query, num_classes=2, k=3, temperature=T)
    assert scores[0].tolist() == pytest.approx([w0 / (w0 + w2 + 1), (w2 + 1) / (w0 + w2 + 1)])
    # k larger than the bank is capped; a cold temperature is a plain nearest neighbour
    assert knn_scores(bank, labels, query, 2, k=20, temperature=T).shape == (1, 2)
    sharp = knn_scores(bank, labels, torch.tensor([[1., 1.1]]), 2, k=3, temperature=1e-3)
    assert sharp.argmax().item() == 1 and sharp.max().item() == pytest.approx(1.0)


def test_chunking_and_scale_do_not_change_the_scores():
    torch.manual_seed(0)
    bank, query = torch.randn(50, 8), torch.randn(13, 8)
    labels = torch.randint(0, 4, (50, ))
    whole = knn_scores(bank, labels, query, 4, k=5)
    assert torch.allclose(whole, knn_scores(bank * 7, labels, query * 0.1, 4, k=5, chunk=4))
    assert torch.allclose(whole.sum(1), torch.ones(13))


def test_top1_and_pooling():
    assert top1(torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]),
                torch.tensor([0, 1, 1])) == pytest.approx(200 / 3)
    maps = (torch.zeros(2, 3, 4, 4), torch.arange(2 * 5 * 4.).reshape(2, 5, 2, 2))
    assert torch.equal(pooled(maps), maps[1].mean(dim=(2, 3)))
    tokens = torch.ones(2, 6, 7)  # MobileFormer(with_tokens=True) appends them last
    assert torch.equal(pooled(maps + (tokens, )), maps[1].mean(dim=(2, 3)))
    assert torch.equal(pooled(tokens), torch.ones(2, 7))


@pytest.mark.parametrize('bad, match', [
    (dict(query=torch.zeros(2, 4)), 'different backbones'),
    (dict(labels=torch.tensor([0, 5, 1])), r'lie in \[0, 3\)'),
    (dict(k=0), 'k must be'),
    (dict(labels=torch.tensor([0, 1])), '3 bank features but 2 labels'),
])
def test_bad_input_is_named(bad, match):
    args = dict(bank=torch.eye(3), labels=torch.tensor([0, 1, 2]), query=torch.eye(3)[:1],
                k=2)
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        knn_scores(args['bank'], args['labels'], args['query'], 3, k=args['k'])


def test_knn_classifier_predicts_through_the_bank(tmp_path):
    """A backbone that returns its input: the k-NN must label queries like their twins."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    import qbheat_mm  # noqa: F401

    init_default_scope('mmpretrain')
    model = MODELS.build(dict(
        type='KNNClassifier', num_classes=2, k=1,
        backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=4, stem_channels=4),
        bank=dict(batch_size=2, dataset=dict(type='mmpretrain.CustomDataset'))))
    with pytest.raises(RuntimeError, match='init_weights.. was not called'):
        model.predict(torch.zeros(1, 3, 32, 32))  # never a silently random backbone
    model.init_weights()
    feats = torch.tensor([[1., 0.], [0., 1.]])
    model._bank = (feats, torch.tensor([0, 1]))
    model.embed = lambda x: x.flatten(1)
    samples = model.predict(torch.tensor([[0.1, 2.], [3., 0.2]]))
    assert [s.pred_label.item() for s in samples] == [1, 0]
    with pytest.raises(RuntimeError, match='nothing to train'):
        model(torch.zeros(1, 2), mode='loss')
