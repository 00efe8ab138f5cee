"""MobileFormerClsHead: reference parameter counts, the forward formula, loss and predict,
and clear errors."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from qbheat_mm.models.backbones import MobileFormer
from qbheat_mm.models.utils.mobile_former_arch import ARCH_SETTINGS
from qbheat_mm.models.heads import MobileFormerClsHead

# Published parameter counts (M) of the ImageNet classifiers (Mobile-Former, table 2).
PUBLISHED_PARAMS = {'508m': 14.0, '294m': 11.4, '214m': 9.4, '151m': 7.6, '96m': 4.6,
                    '52m': 3.5, '26m': 3.2}
TINY_ARCH = dict(stem_channels=8, num_tokens=2, token_dims=16, cls_hidden_channels=24,
                 blocks=[('lite', 8, 16, 2), ('down', 16, (16, 32), 2),
                         ('down', 16, (32, 32), 2), ('down', 32, (32, 64), 2)])


def classifier(arch, num_classes=1000, **head):
    return MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='MobileFormer', arch=arch, with_tokens=True),
             head=dict(type='MobileFormerClsHead', num_classes=num_classes, arch=arch,
                       **head)))


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_294m_classifier_is_exact():
    model = classifier('294m')
    assert num_params(model) == 11_422_648
    assert num_params(model.backbone) == 6_915_408
    assert num_params(model.head.fc) + num_params(model.head.bn) == 2_586_240
    assert num_params(model.head.classifier) == 1_921_000


@pytest.mark.parametrize('arch', list(ARCH_SETTINGS))
def test_every_variant_matches_the_published_table(arch):
    assert round(num_params(classifier(arch)) / 1e6, 1) == PUBLISHED_PARAMS[arch]


def test_explicit_widths_equal_the_arch_lookup():
    explicit = MobileFormerClsHead(1000, in_channels=1152, token_dims=192,
                                   hidden_channels=1920, dropout=0.3)
    assert num_params(explicit) == num_params(MobileFormerClsHead(1000, arch='294m'))
    assert explicit.dropout.p == 0.3


def test_forward_is_the_reference_formula():
    torch.manual_seed(0)
    head = MobileFormerClsHead(5, arch=TINY_ARCH, dropout=0.5)
    head.init_weights()
    head.eval()
    x, tokens = torch.randn(2, 192, 3, 3), torch.randn(2, 2, 16)
    pooled = F.hardswish(x.mean((2, 3)))
    hidden = F.hardswish(head.bn(head.fc(torch.cat([pooled, tokens[:, 0]], 1))))
    expected = head.classifier(hidden)
    feats = (torch.randn(2, 16, 8, 8), x, tokens)  # earlier features are ignored
    assert torch.allclose(head(feats), expected)
    assert torch.allclose(head.pre_logits(feats), hidden)
    assert head.fc.weight.std().item() == pytest.approx(0.01, rel=0.2)
    assert torch.all(head.classifier.bias == 0)


def test_loss_and_predict_through_image_classifier():
    torch.manual_seed(0)
    model = classifier(TINY_ARCH, num_classes=3, dropout=0.2)
    model.init_weights()
    inputs = torch.randn(2, 3, 64, 64)
    samples = [DataSample().set_gt_label(i) for i in (0, 2)]
    losses = model(inputs, samples, mode='loss')
    assert losses['loss'].item() == pytest.approx(torch.log(torch.tensor(3.)).item(),
                                                  abs=0.2)
    losses['loss'].backward()
    assert model.backbone.tokens.grad.abs().sum() > 0  # token 0 feeds the head
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
    assert [p.pred_score.shape for p in preds] == [(3, ), (3, )]
    assert torch.allclose(preds[0].pred_score.sum(), torch.tensor(1.))


def test_missing_tokens_raise():
    backbone = MobileFormer(TINY_ARCH).eval()  # with_tokens=False
    head = MobileFormerClsHead(3, arch=TINY_ARCH)
    with pytest.raises(ValueError, match='build MobileFormer with with_tokens=True and '
                       r'out_indices ending in 4. Got \[\(1, 192, 2, 2\)\]'):
        head(backbone(torch.randn(1, 3, 64, 64)))
    tokens_after_stride_32 = MobileFormer(TINY_ARCH, out_indices=(3, ), with_tokens=True)
    with pytest.raises(ValueError, match='expects a 192-channel map and 16-d tokens, got '
                       '32 and 16'):
        head(tokens_after_stride_32(torch.randn(1, 3, 64, 64)))


@pytest.mark.parametrize('kwargs,message', [
    (dict(arch='294m', hidden_channels=10), 'give either arch or in_channels'),
    (dict(in_channels=10, token_dims=4), 'give arch, or all of in_channels'),
    (dict(arch='1m'), "Unknown Mobile-Former arch '1m'"),
    (dict(arch={k: v for k, v in TINY_ARCH.items() if k != 'cls_hidden_channels'}),
     "no 'cls_hidden_channels'"),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MobileFormerClsHead(10, **kwargs)
