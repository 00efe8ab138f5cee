"""QBHeat: the forward pass, gradients, predict mode and the build / geometry errors."""
import copy

import pytest
import torch
from torch import nn

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS

# MMPretrain's ResNet-18 at 1/8 width: a 64-channel stride-32 map, no out_channels attribute.
TINY = dict(
    type='QBHeat',
    encoder_stride=32,
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[120., 110., 100.],
                           std=[60., 50., 40.], to_rgb=True),
    backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
                  out_indices=(3, )),
    neck=dict(type='HeatExtrapolationNeck', in_channels=64),
    decoder=dict(type='QBHeatDecoder', in_channels=64, embed_dims=16, depth=1, num_heads=2,
                 patch_size=32),
    head=dict(type='QBHeatHead', patch_size=32))


def build(**overrides) -> nn.Module:
    cfg = copy.deepcopy(TINY)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


class PatchCNN(nn.Module):
    """A one-layer stride-32 CNN that declares its ``out_channels`` like MobileFormer."""

    out_channels = (16, )

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, kernel_size=32, stride=32)

    def forward(self, x):
        return (self.conv(x), )


def test_loss_and_gradients_reach_a_b_decoder_and_encoder():
    model = build()
    loss = model(torch.randn(2, 3, 64, 128), mode='loss')['loss']
    assert loss.dim() == 0 and loss.item() > 0
    loss.backward()
    for name, param in [('neck.A', model.neck.A), ('neck.B', model.neck.B),
                        ('decoder.embed', model.decoder.embed.weight),
                        ('decoder.pred', model.decoder.pred.weight),
                        ('backbone.conv1', model.backbone.conv1.weight),
                        ('backbone.layer4', model.backbone.layer4[0].downsample[0].weight)]:
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_encoder_sees_only_the_visible_quarter():
    model = build().eval()
    x = torch.randn(1, 3, 128, 128)
    y = x.clone()
    y[..., 64:, :] = torch.randn(1, 3, 64, 128)
    y[..., :, 64:] = torch.randn(1, 3, 128, 64)
    torch.testing.assert_close(model.predict_cells(x), model.predict_cells(y))
    assert model.encode_visible(x).shape == (1, 64, 2, 2)


def test_predict_returns_pixel_space_reconstructions():
    model = build()
    pre = model.data_preprocessor
    raw = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    batch = pre(dict(inputs=raw, data_samples=None), False)
    samples = model(batch['inputs'], None, mode='predict')
    assert len(samples) == 2
    assert samples[0].recon_img.shape == (3, 64, 64)
    assert samples[0].visible_hw == (32, 32)
    # gt_img is the input in 0-255 pixels, in RGB order (the raw batch is BGR)
    torch.testing.assert_close(samples[1].gt_img, raw[1].flip(0).float(), atol=1e-3, rtol=0)
    assert model.training  # predict does not switch modes itself


def test_norm_pix_reconstruction_uses_each_cells_own_statistics():
    model = build()
    x = torch.randn(2, 3, 64, 64)
    cells = model.predict_cells(x)
    recon = model.head.reconstruct(cells, x)
    mean, std = model.head.cell_stats(x)
    expected = model.head.unpatchify(cells * std + mean, (2, 2))
    torch.testing.assert_close(recon, expected)


def test_geometry_error_names_sizes_and_multiples():
    model = build()
    with pytest.raises(ValueError, match=r'multiples of 2 x encoder_stride = 64, got 96 x 64'):
        model(torch.randn(1, 3, 96, 64), mode='loss')
    with pytest.raises(ValueError, match=r'got 64 x 100; valid sizes are 64, 128, 192'):
        model(torch.randn(1, 3, 64, 100), mode='predict')


def test_channel_mismatch_fails_at_build_with_both_numbers():
    # dry-run path (ResNet declares no out_channels)
    with pytest.raises(ValueError, match=r'neck in_channels is 32 but the backbone outputs '
                                         r'64 channels'):
        build(neck=dict(in_channels=32), decoder=dict(in_channels=32))
    # declared out_channels path
    with pytest.raises(ValueError, match=r'neck in_channels is 64 but the backbone outputs '
                                         r'16 channels'):
        build(backbone=PatchCNN())
    with pytest.raises(ValueError, match=r'decoder in_channels is 32 but the neck outputs 64'):
        build(decoder=dict(in_channels=32))
    with pytest.raises(ValueError, match=r'head patch_size is 16 but each feature cell covers '
                                         r'encoder_stride=32'):
        build(head=dict(patch_size=16))


def test_custom_backbone_with_declared_channels_trains():
    model = build(backbone=PatchCNN(), neck=dict(in_channels=16, proj_channels=8),
                  decoder=dict(in_channels=8))
    assert model.neck.A.shape == (8, 8)
    model(torch.randn(2, 3, 64, 64), mode='loss')['loss'].backward()
    assert model.backbone.conv.weight.grad.abs().sum() > 0


def test_wrong_encoder_stride_is_reported():
    # stage 3 of the ResNet has stride 16: the map is twice as large as expected
    model = build(backbone=dict(out_indices=(2, )), neck=dict(in_channels=32),
                  decoder=dict(in_channels=32))
    with pytest.raises(ValueError, match=r'turned a 32 x 32 quarter into a 2 x 2 map, '
                                         r'expected 1 x 1 for encoder_stride=32'):
        model(torch.randn(2, 3, 64, 64), mode='loss')
