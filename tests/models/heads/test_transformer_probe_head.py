"""TransformerProbeHead (tran-1): shapes, parameter counts, global tokens, loss, predict."""
from __future__ import annotations

import pytest
import torch
from mmpretrain.structures import DataSample

from qbheat_mm.models.heads import TransformerProbeHead


def block_params(d: int, hidden: int) -> int:
    # pre-LN block: 2 LayerNorms, q/k/v/out projections, MLP d -> hidden -> d
    return 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + (hidden * d + d)


def make_head(**kwargs) -> TransformerProbeHead:
    args = dict(num_classes=5, in_channels=12, embed_dims=16, num_heads=4)
    args.update(kwargs)
    head = TransformerProbeHead(**args)
    head.init_weights()
    return head


def test_parameter_count_of_tran1_and_depth():
    d, c, k = 512, 1152, 1000  # the ImageNet tran-1 probe of Mobile-Former-294M
    head = TransformerProbeHead(num_classes=k, in_channels=c)
    expected = (c * d + d) + block_params(d, 4 * d) + 2 * d + (d * k + k)
    assert sum(p.numel() for p in head.parameters()) == expected == 4_256_744
    deeper = make_head(depth=3)
    assert len(deeper.blocks) == 3
    assert deeper.blocks[0].norm_first and deeper.blocks[0].self_attn.num_heads == 4


def test_map_to_scores_and_tokens_are_ignored_unless_asked():
    head = make_head().eval()
    feat_map = torch.randn(2, 12, 3, 3)
    tokens = torch.randn(2, 6, 8)
    scores = head((feat_map, ))
    assert scores.shape == (2, 5)
    # with_tokens=True backbones append the tokens last; a map-only head ignores them
    torch.testing.assert_close(head((feat_map, tokens)), scores)
    # multi-scale outputs: the last 4-D map is used
    torch.testing.assert_close(head((torch.randn(2, 3, 6, 6), feat_map)), scores)


def test_no_position_embedding_makes_cells_a_set():
    head = make_head().eval()
    feat_map = torch.randn(2, 12, 3, 3)
    shuffled = feat_map.flatten(2)[:, :, torch.randperm(9)].view_as(feat_map)
    torch.testing.assert_close(head((shuffled, )), head((feat_map, )), atol=1e-5, rtol=1e-5)


def test_global_tokens_are_projected_and_change_the_output():
    head = make_head(use_global_tokens=True, token_dims=8).eval()
    assert head.token_proj.weight.shape == (16, 8)
    feat_map = torch.randn(2, 12, 3, 3)
    out_a = head((feat_map, torch.randn(2, 6, 8)))
    out_b = head((feat_map, torch.randn(2, 6, 8)))
    assert out_a.shape == (2, 5) and not torch.allclose(out_a, out_b)
    with pytest.raises(ValueError, match='with_tokens=True'):
        head((feat_map, ))


@pytest.mark.parametrize('kwargs, message', [
    (dict(use_global_tokens=True), 'needs token_dims'),
    (dict(token_dims=192), 'token_dims=192 does nothing without use_global_tokens=True'),
    (dict(embed_dims=18), 'divisible by num_heads'),
    (dict(depth=0), 'depth must be a positive integer'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_head(**kwargs)


def test_loss_backpropagates_and_predict_fills_samples():
    torch.manual_seed(0)
    head = make_head(cal_acc=True)
    feats = (torch.randn(4, 12, 2, 2), )
    samples = [DataSample().set_gt_label(i % 5) for i in range(4)]
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss', 'accuracy_top-1'}
    # near-uniform scores at init: cross-entropy close to log(5)
    assert abs(losses['loss'].item() - torch.log(torch.tensor(5.)).item()) < 0.3
    losses['loss'].backward()
    assert head.cell_proj.weight.grad.abs().sum() > 0
    assert head.blocks[0].self_attn.in_proj_weight.grad.abs().sum() > 0

    predictions = head.predict(feats, samples)
    assert len(predictions) == 4 and predictions[0] is samples[0]
    scores = torch.stack([p.pred_score for p in predictions])
    torch.testing.assert_close(scores.sum(1), torch.ones(4))
    assert [p.pred_label.item() for p in predictions] == scores.argmax(1).tolist()


def test_norm_input_makes_the_head_invariant_to_channel_scale_and_offset():
    torch.manual_seed(0)
    plain, normed = make_head(), make_head(norm_input=True, use_global_tokens=True,
                                           token_dims=8)
    assert sum(p.numel() for p in normed.parameters()) == \
        sum(p.numel() for p in plain.parameters()) + 8 * 16 + 16  # only the token proj
    assert {'cell_norm.running_mean', 'token_norm.running_var'} <= set(normed.state_dict())
    feat_map, tokens = torch.randn(4, 12, 3, 3), torch.randn(4, 6, 8)
    scale = torch.rand(1, 12, 1, 1) * 100 + 1  # per-channel, like an untrained backbone
    normed.train()  # batch statistics
    torch.testing.assert_close(normed((feat_map * scale + 3., tokens * 50. - 2.)),
                               normed((feat_map, tokens)), atol=1e-4, rtol=1e-4)
    plain.train()
    assert not torch.allclose(plain((feat_map * scale + 3., )), plain((feat_map, )),
                              atol=1e-2)
