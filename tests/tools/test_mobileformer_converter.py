"""tools/model_converters/mobileformer_official_to_mmpretrain.py: reference key names, a
round trip with identical outputs, and non-zero exits that list the offending keys."""
import argparse
from pathlib import Path

import pytest
import torch
from torch import nn

from qbheat_mm.models.backbones import MobileFormer
from qbheat_mm.models.heads import MobileFormerClsHead
from tool_loader import load_tool

converter = load_tool('model_converters/mobileformer_official_to_mmpretrain.py')
convert_official_state_dict = converter.convert_official_state_dict
convert_to_official_state_dict = converter.convert_to_official_state_dict


def our_classifier(arch: str, num_classes: int = 10, seed: int = 0) -> nn.ModuleDict:
    """Backbone + head with random weights and BN statistics (not the init values)."""
    torch.manual_seed(seed)
    model = nn.ModuleDict(dict(backbone=MobileFormer(arch, with_tokens=True),
                               head=MobileFormerClsHead(num_classes, arch=arch)))
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            value.copy_(torch.rand_like(value) + 0.5 if 'running_var' in key
                        else torch.randn_like(value) * 0.1)
    return model.eval()


def reference_checkpoint(model: nn.ModuleDict, arch: str, path: Path, **extra) -> Path:
    """What timm saves for the reference model: DDP 'module.' keys under 'state_dict'."""
    official, unmatched = convert_to_official_state_dict(model.state_dict(), arch)
    assert not unmatched
    torch.save(dict(state_dict={f'module.{k}': v for k, v in official.items()}, **extra),
               path)
    return path


def test_294m_reference_names():
    model = nn.ModuleDict(dict(backbone=MobileFormer('294m', with_tokens=True),
                               head=MobileFormerClsHead(1000, arch='294m')))
    ours = model.state_dict()
    official, unmatched = convert_to_official_state_dict(ours, '294m')
    # Everything but our record of the bridge's training, which the reference lacks.
    assert not unmatched and len(official) == len(ours) - 1
    assert 'backbone.final_bridge_trained' in ours
    shapes = {k: tuple(v.shape) for k, v in official.items()}
    # Names from the spec (section 5) with the shapes the 294M reference has.
    assert shapes['tokens.weight'] == (6, 192)
    assert shapes['stem.0.weight'] == (16, 3, 3, 3)
    assert shapes['stem.1.running_var'] == (16, )
    assert shapes['features.0.conv.0.weight'] == (32, 1, 3, 3)
    assert shapes['features.0.conv.4.weight'] == (16, 32, 1, 1)
    assert shapes['features.0.conv.5.bias'] == (16, )
    assert shapes['features.1.conv1.0.weight'] == (96, 1, 3, 3)  # MF-down 16 -> 24
    assert shapes['features.1.hyper1.hyper.2.weight'] == (192, 48)
    assert shapes['features.1.conv2.0.weight'] == (24, 96, 1, 1)
    assert shapes['features.1.hyper3.hyper.0.weight'] == (48, 192)
    assert shapes['features.1.conv4.1.weight'] == (24, )
    assert shapes['features.1.local_global.alpha.0.weight'] == (16, 192)
    assert shapes['features.2.conv1.0.weight'] == (96, 24, 1, 1)  # MF 24 -> 24
    assert shapes['features.2.hyper2.hyper.2.bias'] == (192, )
    assert shapes['features.2.conv3.1.running_mean'] == (24, )
    assert shapes['features.2.local_global.q.weight'] == (24, 192)
    assert shapes['features.2.local_global.proj.weight'] == (192, 24)
    assert shapes['features.2.local_global.layer_norm.weight'] == (192, )
    assert shapes['features.2.global_block.q.weight'] == (192, 192)
    assert shapes['features.2.global_block.channel_mlp.weight'] == (192, 192)
    assert shapes['features.2.global_block.ffn.0.weight'] == (384, 192)
    assert shapes['features.2.global_block.ffn_norm.bias'] == (192, )
    assert shapes['features.2.global_local.k.weight'] == (24, 192)
    assert shapes['features.2.global_local.proj.weight'] == (24, 192)
    assert shapes['local_global.alpha.0.weight'] == (192, 192)
    assert shapes['classifier.conv.1.weight'] == (1152, 192, 1, 1)
    assert shapes['classifier.conv.2.num_batches_tracked'] == ()
    assert shapes['classifier.fc.0.weight'] == (1920, 1344)
    assert shapes['classifier.fc.1.running_var'] == (1920, )
    assert shapes['classifier.classifier.1.weight'] == (1000, 1920)
    back, unmatched = convert_official_state_dict(official, '294m')
    assert not unmatched and list(back) == list(ours)
    assert int(back['backbone.final_bridge_trained']) == 1  # a supervised classifier


def test_round_trip_gives_identical_outputs(tmp_path, capsys):
    source = our_classifier('26m')  # grouped convs and shuffles included
    src = reference_checkpoint(source, '26m', tmp_path / 'mobile-former-26m.pth.tar')
    dst = tmp_path / 'converted.pth'
    assert converter.main([str(src), str(dst), '--arch', '26m']) == 0
    n = len(source.state_dict()) - 1  # the bridge flag has no reference key
    assert (f'{n} reference keys, {n} converted, 0 unmatched; added '
            'backbone.final_bridge_trained = 1') in capsys.readouterr().out

    target = our_classifier('26m', seed=1)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = source['head'](source['backbone'](x))
        assert not torch.allclose(target['head'](target['backbone'](x)), expected)
        target.load_state_dict(torch.load(dst, weights_only=True)['state_dict'])
        assert torch.equal(target['head'](target['backbone'](x)), expected)
    # The converted bridge counts as trained: a frozen backbone may return the tokens.
    frozen = MobileFormer('26m', with_tokens=True, frozen_stages=5)
    frozen.load_state_dict({k[len('backbone.'):]: v for k, v in torch.load(
        dst, weights_only=True)['state_dict'].items() if k.startswith('backbone.')})
    assert frozen.bridge_status == 'trained'


def test_unmatched_key_fails_and_is_listed(tmp_path, capsys):
    src = tmp_path / 'ref.pth'
    reference_checkpoint(our_classifier('52m'), '52m', src)
    checkpoint = torch.load(src, weights_only=True)
    checkpoint['state_dict']['module.features.3.hyper4.hyper.0.weight'] = torch.zeros(1)
    torch.save(checkpoint, src)
    assert converter.main([str(src), str(tmp_path / 'out.pth'), '--arch', '52m']) == 1
    captured = capsys.readouterr()
    assert '1 unmatched' in captured.out
    assert 'unmatched reference key: features.3.hyper4.hyper.0.weight' in captured.err
    assert not (tmp_path / 'out.pth').exists()


def test_wrong_arch_fails_on_shapes(tmp_path, capsys):
    src = reference_checkpoint(our_classifier('52m'), '52m', tmp_path / 'ref.pth')
    assert converter.main([str(src), str(tmp_path / 'out.pth'), '--arch', '26m']) == 1
    assert ('shape of backbone.blocks.0.pw.conv.weight: (12, 24, 1, 1) in the file, '
            '(12, 6, 1, 1) in 26m') in capsys.readouterr().err


def test_pickled_training_state_needs_allow_pickle(tmp_path, capsys):
    src = reference_checkpoint(our_classifier('26m'), '26m', tmp_path / 'ref.pth.tar',
                               args=argparse.Namespace(model='mobile-former-26m'))
    dst = tmp_path / 'out.pth'
    assert converter.main([str(src), str(dst), '--arch', '26m']) == 1
    assert 'rerun with --allow-pickle' in capsys.readouterr().err
    assert converter.main([str(src), str(dst), '--arch', '26m', '--allow-pickle']) == 0


def test_unknown_arch_is_rejected_by_the_cli():
    with pytest.raises(SystemExit):
        converter.parse_args(['a', 'b', '--arch', '300m'])
