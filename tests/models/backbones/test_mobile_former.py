"""MobileFormer: exact parameter counts, output shapes, init, freezing and bad input."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from qbheat_mm.models.backbones import MobileFormer
from qbheat_mm.models.backbones import mobile_former
from qbheat_mm.models.utils.mobile_former_arch import ARCH_SETTINGS, get_arch
from qbheat_mm.utils import load_backbone_checkpoint
from qbheat_mm.models.backbones.mobile_former_blocks import ChannelShuffle, DyReLU

# Strides 4 / 8 / 16 / 32 after the stride-2 stem; out channels (8, 16, 16, 32, 192).
TINY_ARCH = dict(stem_channels=8, num_tokens=2, token_dims=16,
                 blocks=[('lite', 8, 16, 2), ('down', 16, (16, 32), 2),
                         ('mf', 16, 32, 1), ('down', 16, (32, 32), 2),
                         ('down', 32, (32, 64), 2)])
# Taps and channels of the published variants (spec, "Feature taps").
TAP_CHANNELS = {
    '508m': (40, 72, 176, 240, 1440), '294m': (24, 48, 128, 192, 1152),
    '214m': (20, 40, 112, 160, 960), '151m': (16, 32, 88, 128, 768),
    '96m': (16, 32, 88, 128, 768), '52m': (12, 24, 64, 96, 576),
    '26m': (12, 24, 64, 96, 576)
}


def num_params(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def expected_sizes(size: int) -> list[int]:
    """Spatial size at strides 4, 8, 16, 32: every stride-2 step maps s to ceil(s / 2)."""
    sizes = []
    for _ in range(5):
        size = math.ceil(size / 2)
        sizes.append(size)
    return sizes[1:] + sizes[-1:]


def test_294m_parameter_split_is_exact():
    model = MobileFormer('294m')
    body = model.tokens.numel() + num_params(model.stem, model.blocks)
    assert body == 6_580_368  # tokens + stem + 12 blocks
    assert body + num_params(model.mobile_to_former) == 6_691_920  # + final bridge
    assert num_params(model) == 6_915_408  # + 1x1 expansion conv and its BN


@pytest.mark.parametrize('arch', list(ARCH_SETTINGS))
def test_published_channels_and_taps(arch):
    model = MobileFormer(arch, out_indices=(0, 1, 2, 3, 4))
    assert model.out_channels == TAP_CHANNELS[arch]
    tokens = (3, 128) if arch in ('52m', '26m') else (4, 128) if arch == '96m' else (6, 192)
    assert (model.num_tokens, model.token_dims) == tokens
    assert model.tokens.shape == tokens


@pytest.mark.parametrize('arch,size', [('294m', 224), ('294m', 256), ('294m', 97),
                                       ('52m', 97), ('26m', 64)])
def test_output_shapes_per_index(arch, size):
    model = MobileFormer(arch, out_indices=(0, 1, 2, 3, 4), with_tokens=True).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, size, size))
    assert len(outs) == 6
    for out, channels, side in zip(outs, model.out_channels, expected_sizes(size)):
        assert out.shape == (1, channels, side, side)
    assert outs[-1].shape == (1, model.num_tokens, model.token_dims)


def test_224_gives_7x7_and_subset_of_indices():
    model = MobileFormer('294m', out_indices=[4, 1, 2]).eval()
    assert model.out_indices == (1, 2, 4)
    assert model.out_channels == (48, 128, 1152)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 224, 224))
    shapes = [tuple(o.shape) for o in outs]
    assert shapes == [(1, 48, 28, 28), (1, 128, 14, 14), (1, 1152, 7, 7)]
    assert 0 <= outs[-1].min() and outs[-1].max() <= 6  # ReLU6 after the expansion


def test_registered_and_builds_from_config():
    model = MODELS.build(dict(type='MobileFormer', arch='26M', out_indices=(4, )))
    assert isinstance(model, MobileFormer)
    assert model.out_channels == (576, )


def test_26m_groups_and_shuffles():
    model = MobileFormer('26m')
    block = model.blocks[1]  # MF 12 -> 12, hidden 36
    assert block.pw1.conv.groups == 4 and block.pw2.conv.groups == 4
    assert isinstance(block.pw1.shuffle, ChannelShuffle)
    assert model.expand.conv.groups == 4
    assert isinstance(model.expand_shuffle, ChannelShuffle)
    assert all(m.groups == 1 for m in MobileFormer('52m').modules()
               if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1))


def test_channel_shuffle_interleaves_groups():
    x = torch.arange(6.).view(1, 6, 1, 1)
    assert ChannelShuffle(2)(x).flatten().tolist() == [0, 3, 1, 4, 2, 5]


def test_reference_init():
    torch.manual_seed(0)
    model = MobileFormer('294m')
    model.init_weights()
    conv = model.blocks[10].pw1.conv  # 192 -> 1152 1x1: std sqrt(2 / 1152)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 1152), rel=0.02)
    dw = model.blocks[9].dw1.conv  # depthwise 3x3, 768 out: groups ignored
    assert dw.weight.std().item() == pytest.approx(math.sqrt(2 / (9 * 768)), rel=0.05)
    linear = model.blocks[10].former.ffn[0]
    assert linear.weight.std().item() == pytest.approx(0.01, rel=0.02)
    assert torch.all(linear.bias == 0)
    bn = model.blocks[10].pw1.bn
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    assert model.tokens.std().item() == pytest.approx(1.0, rel=0.1)


def test_dyrelu_is_relu_at_init():
    torch.manual_seed(0)
    model = MobileFormer('52m')
    model.init_weights()
    dyrelu = model.blocks[1].act1
    tokens = F.layer_norm(torch.randn(4, 3, 128), (128, ))  # tokens are post-LN
    x = torch.randn(4, dyrelu.channels, 5, 5)
    a1, a2 = dyrelu.slopes(tokens)
    # N(0, 0.01) weights and zero biases: slopes 1 and 0 up to a few 1e-3
    assert (a1 - 1).abs().max() < 1e-2 and a2.abs().max() < 1e-2
    assert torch.allclose(dyrelu(x, tokens), F.relu(x), atol=1e-2 * x.abs().max().item())
    # exactly ReLU when the last Linear is zero (h_sigmoid(0) = 0.5)
    torch.nn.init.zeros_(dyrelu.mlp[2].weight)
    assert torch.equal(dyrelu(x, tokens), F.relu(x))


def test_dyrelu_slopes_follow_token_zero():
    dyrelu = DyReLU(3, 8)
    torch.nn.init.zeros_(dyrelu.mlp[2].weight)
    with torch.no_grad():
        dyrelu.mlp[2].bias.copy_(torch.tensor([3., 3., 3., -3., -3., -3.]))
    a1, a2 = dyrelu.slopes(torch.randn(2, 4, 8))
    assert torch.all(a1 == 2) and torch.all(a2 == -1)  # saturated h_sigmoid
    x = torch.tensor([-1., 2.]).view(1, 1, 1, 2).expand(2, 3, 1, 2)
    assert dyrelu(x, torch.randn(2, 4, 8))[0, 0].flatten().tolist() == [1., 4.]


@pytest.mark.parametrize('with_tokens', [True, False])
@pytest.mark.parametrize('stage,frozen_blocks', [(-1, 0), (0, 0), (1, 1), (2, 3), (3, 4),
                                                 (4, 5), (5, 5)])
def test_frozen_stages_select_modules(stage, frozen_blocks, with_tokens):
    model = MobileFormer(TINY_ARCH, frozen_stages=stage, with_tokens=with_tokens)
    model.train()
    assert model.tap_blocks == (0, 2, 3, 4)
    assert model.tokens.requires_grad == (stage < 0)
    assert all(p.requires_grad == (stage < 0) for p in model.stem.parameters())
    for i, block in enumerate(model.blocks):
        frozen = i < frozen_blocks
        assert all(p.requires_grad != frozen for p in block.parameters())
        assert all(m.training != frozen for m in block.modules())
    assert all(p.requires_grad == (stage < 5) for p in model.expand.parameters())
    # Without tokens the final bridge never runs, so it is frozen whatever the stage.
    assert all(p.requires_grad == (stage < 5 and with_tokens)
               for p in model.mobile_to_former.parameters())
    assert model.bridge_trainable == (stage < 5 and with_tokens)


def test_everything_frozen_survives_an_optimizer_step():
    torch.manual_seed(0)
    backbone = MobileFormer(TINY_ARCH, out_indices=(2, 4), frozen_stages=5,
                            with_tokens=True)
    backbone.init_weights()
    head = torch.nn.Linear(192 + 16, 3)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    head_before = head.weight.detach().clone()
    optimizer = torch.optim.AdamW(
        list(backbone.parameters()) + list(head.parameters()), lr=0.1, weight_decay=0.5)
    backbone.train()  # the Runner does this every epoch
    assert not any(m.training for m in backbone.modules() if isinstance(m, _BatchNorm))
    _, feature, tokens = backbone(torch.randn(2, 3, 64, 64))
    logits = head(torch.cat([feature.mean((2, 3)), tokens[:, 0]], 1))
    F.cross_entropy(logits, torch.tensor([0, 2])).backward()
    optimizer.step()
    after = backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), [
        k for k in before if not torch.equal(before[k], after[k])
    ]
    assert not torch.equal(head_before, head.weight)  # the step did happen


def test_norm_eval_keeps_bn_statistics():
    model = MobileFormer(TINY_ARCH, norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and not any(bn.training for bn in bns)
    assert model.blocks[1].training  # everything else still trains
    before = [bn.running_mean.clone() for bn in bns]
    model(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(b, bn.running_mean) for b, bn in zip(before, bns))


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    # Grouped 1x1 convs and channel shuffles included. 64-d tokens give the DyReLU MLPs
    # 16 hidden units, so none is dead for every sample (4 units can be, by chance).
    model = MobileFormer(dict(TINY_ARCH, groups=4, token_dims=64),
                         out_indices=(0, 1, 2, 3, 4), with_tokens=True)
    model.init_weights()
    model.train()
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.pow(2).mean() for o in outs).backward()
    missing = [n for n, p in model.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_drop_path_rates_grow_linearly():
    model = MobileFormer(TINY_ARCH, drop_path_rate=0.4)
    rates = [b.drop_path.drop_prob for b in model.blocks[1:]]
    assert rates == pytest.approx([0.4 * i / 5 for i in range(2, 6)])
    assert model.blocks[-1].former.drop_path.drop_prob == pytest.approx(0.4)
    assert model.mobile_to_former.drop_path.drop_prob == pytest.approx(0.4)
    x = torch.randn(4, 3, 32, 32)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    torch.manual_seed(1)
    first = model(x)[0]
    assert not torch.equal(first, model(x)[0])


def test_custom_table_is_validated_and_copied():
    table = get_arch(TINY_ARCH)
    assert table['groups'] == 1 and table is not TINY_ARCH
    assert MobileFormer(dict(TINY_ARCH, groups=4)).expand.conv.groups == 4


@pytest.mark.parametrize('arch,message', [
    ('300m', "Unknown Mobile-Former arch '300m'; choose one of ['508m', '294m'"),
    (3, 'arch must be one of'),
    ({k: v for k, v in TINY_ARCH.items() if k != 'blocks'}, "missing keys ['blocks']"),
    (dict(TINY_ARCH, heads=2), "unknown keys ['heads']"),
    (dict(TINY_ARCH, token_dims=18), 'token_dims must be a multiple of 4'),
    (dict(TINY_ARCH, num_tokens=0), "'num_tokens' must be a positive int"),
    (dict(TINY_ARCH, cls_hidden_channels=1.5), "'cls_hidden_channels' must be a positive"),
    (dict(TINY_ARCH, blocks=[]), 'blocks must be a non-empty list'),
    (dict(TINY_ARCH, blocks=[('lite', 8, 16)]), 'expected a (kind, out_channels'),
    (dict(TINY_ARCH, blocks=[('conv', 8, 16, 2)]), "unknown kind 'conv'; choose one of"),
    (dict(TINY_ARCH, blocks=[('mf', 8, 16, 2)]), "a 'mf' block takes stride (1,)"),
    (dict(TINY_ARCH, blocks=[('down', 8, 16, 2)]), 'needs hidden = (h1, h2)'),
    (dict(TINY_ARCH, blocks=[('lite', 9, 16, 2)]), 'positive even int'),
    (dict(TINY_ARCH, blocks=[('lite', 8, 12, 2)]), 'must be a multiple of 8'),
    (dict(TINY_ARCH, blocks=TINY_ARCH['blocks'][:-1]), 'must reach strides [4, 8, 16, 32]'),
    (dict(TINY_ARCH, groups=3), '3-group 1x1 convs'),
])
def test_bad_arch_raises(arch, message):
    with pytest.raises(ValueError) as error:
        MobileFormer(arch)
    assert message in str(error.value)


@pytest.mark.parametrize('out_indices', [(5, ), (-1, ), (), (1, 1), 'all'])
def test_bad_out_indices_raise(out_indices):
    with pytest.raises(ValueError, match=r'out_indices must be distinct values from '
                       r'\[0, 1, 2, 3, 4\]'):
        MobileFormer(TINY_ARCH, out_indices=out_indices)


@pytest.mark.parametrize('frozen_stages', [-2, 6, 1.5])
def test_bad_frozen_stages_raise(frozen_stages):
    with pytest.raises(ValueError, match=r'frozen_stages must be an int in \[-1, 5\]'):
        MobileFormer(TINY_ARCH, frozen_stages=frozen_stages)


def test_non_4d_input_raises():
    model = MobileFormer(TINY_ARCH)
    with pytest.raises(ValueError, match=r'expects an N x C x H x W image batch, got a '
                       r'3-D tensor of shape \(3, 64, 64\)'):
        model(torch.randn(3, 64, 64))


# ---- the final Mobile -> Former bridge ---------------------------------------------------

BRIDGE_KEYS = ['mobile_to_former.q.weight', 'mobile_to_former.q.bias',
               'mobile_to_former.gate.weight', 'mobile_to_former.gate.bias',
               'mobile_to_former.proj.weight', 'mobile_to_former.proj.bias',
               'mobile_to_former.norm.weight', 'mobile_to_former.norm.bias']


def test_without_tokens_every_trainable_parameter_gets_a_gradient():
    """What DDP with find_unused_parameters=False needs: no trainable parameter may sit
    outside the graph. The bridge is kept (same keys) but frozen."""
    torch.manual_seed(0)
    model = MobileFormer(dict(TINY_ARCH, token_dims=64), out_indices=(0, 4))
    model.init_weights()
    model.train()
    sum(o.pow(2).mean() for o in model(torch.randn(2, 3, 64, 64))).backward()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
    assert trainable == with_grad
    assert [k for k in BRIDGE_KEYS if k in trainable] == []
    assert all(k in model.state_dict() for k in BRIDGE_KEYS)


def test_294m_state_dict_keeps_the_bridge_and_adds_its_flag():
    keys = list(MobileFormer('294m').state_dict())
    assert len(keys) == 608  # 607 weights and statistics + final_bridge_trained
    assert keys[1] == 'final_bridge_trained' and all(k in keys for k in BRIDGE_KEYS)


def test_bridge_flag_records_training():
    model = MobileFormer(TINY_ARCH, with_tokens=True)
    assert model.bridge_status == 'untrained'
    x = torch.randn(2, 3, 64, 64)
    model.eval()(x)
    with torch.no_grad():
        model.train()(x)
    assert model.bridge_status == 'untrained'  # evaluation does not train it
    model.train()(x)
    assert model.bridge_status == 'trained' and int(model.final_bridge_trained) == 1
    frozen = MobileFormer(TINY_ARCH, with_tokens=True, frozen_stages=5,
                          untrained_bridge='warn').train()
    frozen(x)
    assert frozen.bridge_status == 'untrained'  # ran, but frozen
    no_tokens = MobileFormer(TINY_ARCH).train()
    no_tokens(x)
    assert no_tokens.bridge_status == 'untrained'  # never ran


def state_without_flag(**kwargs) -> dict:
    """A checkpoint saved before the bridge flag existed (today's QB-Heat / MoCo-v2)."""
    torch.manual_seed(0)
    state = MobileFormer(TINY_ARCH, **kwargs).state_dict()
    del state['final_bridge_trained']
    return state


def test_checkpoints_without_the_flag_load_strictly(tmp_path):
    old = state_without_flag()
    model = MobileFormer(TINY_ARCH)
    model.load_state_dict(old, strict=True)
    assert model.bridge_status == 'unknown'
    assert 'final_bridge_trained' not in old  # the caller's dict is left alone...
    # ... and the strict bridge from pre-training checkpoints agrees.
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in old.items()}),
               tmp_path / 'old.pth')
    report = load_backbone_checkpoint(MobileFormer(TINY_ARCH), str(tmp_path / 'old.pth'))
    assert report.complete and report.loaded == report.total == len(old) + 1


def trained_state() -> dict:
    torch.manual_seed(0)
    model = MobileFormer(TINY_ARCH, with_tokens=True).train()
    model(torch.randn(2, 3, 64, 64))
    return model.state_dict()


@pytest.mark.parametrize('status,state', [
    ('untrained', lambda: MobileFormer(TINY_ARCH).state_dict()),
    ('of unknown status', state_without_flag),
])
def test_frozen_untrained_bridge_with_tokens_fails_naming_the_fix(status, state):
    model = MobileFormer(TINY_ARCH, with_tokens=True, frozen_stages=5)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state())
    message = str(error.value)
    assert f'the loaded final Mobile->Former bridge (mobile_to_former.*) is {status}' in message
    assert 'QB-Heat and MoCo-v2 pre-training never run it' in message
    assert 'model.backbone.with_tokens=False' in message
    assert 'model.head.use_global_tokens=False' in message
    assert "model.backbone.untrained_bridge='warn'" in message


def test_trained_bridge_loads_frozen_with_tokens_silently(monkeypatch):
    logged = []
    monkeypatch.setattr(mobile_former, 'print_log', lambda msg, **kw: logged.append(msg))
    model = MobileFormer(TINY_ARCH, with_tokens=True, frozen_stages=5)
    model.load_state_dict(trained_state())
    assert model.bridge_status == 'trained' and logged == []


@pytest.mark.parametrize('kwargs,expected', [
    (dict(frozen_stages=5, untrained_bridge='warn'), 'It is frozen here'),
    (dict(frozen_stages=4), 'It is trainable here, so this run trains it'),
])
def test_untrained_bridge_warns_when_opted_out_or_trainable(monkeypatch, kwargs, expected):
    logged = []
    monkeypatch.setattr(mobile_former, 'print_log', lambda msg, **kw: logged.append(msg))
    model = MobileFormer(TINY_ARCH, with_tokens=True, **kwargs)
    model.load_state_dict(MobileFormer(TINY_ARCH).state_dict())
    assert len(logged) == 1 and expected in logged[0] and 'untrained' in logged[0]


def test_unknown_status_without_tokens_only_informs(monkeypatch):
    logged = []
    monkeypatch.setattr(mobile_former, 'print_log', lambda msg, **kw: logged.append(msg))
    MobileFormer(TINY_ARCH, frozen_stages=5).load_state_dict(state_without_flag())
    assert len(logged) == 1 and 'with_tokens=False does not run the bridge' in logged[0]


def test_bad_untrained_bridge_value_raises():
    with pytest.raises(ValueError, match=r"untrained_bridge must be one of \('error', 'warn'\)"):
        MobileFormer(TINY_ARCH, untrained_bridge='ignore')
