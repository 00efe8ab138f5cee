"""QBHeat: the forward pass, gradients, predict mode (honest reconstructions), the heat
operator as the only path to the masked quarters, and the build / geometry errors."""
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
    decoder=dict(type='QBHeatDecoder', in_channels=64, embed_dims=16, depth=1, num_heads=2),
    head=dict(type='QBHeatHead'))


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
    losses = model(torch.randn(2, 3, 64, 128), mode='loss')
    assert set(losses) == {'loss_pix', 'loss_stats'}
    loss = sum(losses.values())
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


def test_predict_reconstruction_ignores_the_hidden_quarters():
    model = build().eval()
    x = torch.randn(2, 3, 128, 128)
    y = x.clone()
    y[..., 64:, :] = torch.randn(2, 3, 64, 128) * 3 + 1
    y[..., :64, 64:] = torch.randn(2, 3, 64, 64) * 3 - 1
    sx, sy = model.predict(x), model.predict(y)
    for a, b in zip(sx, sy):
        torch.testing.assert_close(a.recon_img, b.recon_img)
        # the leaky MAE view does move: it takes the hidden cells' statistics
        assert (a.recon_img_gtstats - b.recon_img_gtstats).abs().max() > 10


def test_predict_uses_the_predicted_statistics():
    model = build()
    x = torch.randn(2, 3, 64, 64)
    cells = model.predict_cells(x)
    sample = model.predict(x)[0]
    expected = model._to_pixels(model.head.reconstruct(cells, (2, 2)))[0]
    torch.testing.assert_close(sample.recon_img, expected)
    raw = build(head=dict(norm_pix=False))
    assert raw.decoder.out_dims == 32 * 32 * 3
    assert 'recon_img_gtstats' not in raw.predict(x)[0]


def test_masked_quarters_see_the_visible_quarter_only_through_the_neck():
    model = build().eval()
    z = torch.randn(1, 64, 2, 2)
    full = model.neck(z)
    perturbed = full.clone()
    perturbed[:, :, :2, :2] += torch.randn(1, 64, 2, 2) * 3  # neck output, visible cells
    out, out_p = (model.decoder(f).reshape(1, 4, 4, -1) for f in (full, perturbed))
    masked = torch.ones(4, 4, dtype=torch.bool)
    masked[:2, :2] = False
    torch.testing.assert_close(out[:, masked], out_p[:, masked])
    # block mode, A = B = 0 (the init): every masked quarter decodes like the visible one
    for ys, xs in [(slice(0, 2), slice(2, 4)), (slice(2, 4), slice(0, 2)),
                   (slice(2, 4), slice(2, 4))]:
        torch.testing.assert_close(out[:, ys, xs], out[:, :2, :2])
    with torch.no_grad():
        model.neck.A.normal_(std=0.1)
    out = model.decoder(model.neck(z)).reshape(1, 4, 4, -1)
    assert (out[:, :2, 2:] - out[:, :2, :2]).abs().max() > 1e-3  # A moved the right quarter


def test_frozen_operator_stays_zero_after_a_step():
    model = build(neck=dict(freeze_operator=True))
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1,
                              weight_decay=0.1)
    sum(model(torch.randn(2, 3, 64, 64), mode='loss').values()).backward()
    optim.step()
    assert model.neck.A.abs().sum() == 0 and model.neck.B.abs().sum() == 0
    assert model.neck.A.grad is None


def test_the_free_neck_trains_each_quarter_projection():
    """The no-prior arm: the loss reaches A, B and the diagonal's own D."""
    model = build(neck=dict(mode='free'))
    sum(model(torch.randn(2, 3, 64, 128), mode='loss').values()).backward()
    for name in ('A', 'B', 'D'):
        assert getattr(model.neck, name).grad.abs().sum() > 0, name


def test_geometry_error_names_sizes_and_multiples():
    model = build()
    with pytest.raises(ValueError, match=r'multiples of 2 x encoder_stride = 64, got 96 x 64'):
        model(torch.randn(1, 3, 96, 64), mode='loss')
    with pytest.raises(ValueError, match=r'got 64 x 100; valid sizes are 64, 128, 192'):
        model(torch.randn(1, 3, 64, 100), mode='predict')


def test_a_batch_of_one_at_the_smallest_size_is_refused_naming_the_batch_size():
    """At 64 px the visible quarter is one cell: BatchNorm cannot train on one value per
    channel (torch's 'Expected more than 1 value per channel'); the refusal names the
    batch size and the two ways on."""
    model = build()
    model.train()
    with pytest.raises(ValueError, match=r'a batch of 1 image of 64 x 64: the encoder maps its '
                       r'32 x 32 visible quarter to 1 x 1 cell.*batch size of at least 2 '
                       r'\(train_dataloader.batch_size.*images of at least 128 px'):
        model(torch.randn(1, 3, 64, 64), mode='loss')
    model(torch.randn(2, 3, 64, 64), mode='loss')  # two images: fine
    model(torch.randn(1, 3, 128, 128), mode='loss')  # 2 x 2 cells: fine
    model.eval()
    model(torch.randn(1, 3, 64, 64), mode='predict')  # BatchNorm in eval mode: fine


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
    with pytest.raises(ValueError, match=r'decoder out_dims is 7 but the head needs 3074 '
                                         r'values per cell \(norm_pix=True\)'):
        build(decoder=dict(out_dims=7))


def test_custom_backbone_with_declared_channels_trains():
    model = build(backbone=PatchCNN(), neck=dict(in_channels=16, proj_channels=8),
                  decoder=dict(in_channels=8))
    assert model.neck.A.shape == (8, 8)
    sum(model(torch.randn(2, 3, 64, 64), mode='loss').values()).backward()
    assert model.backbone.conv.weight.grad.abs().sum() > 0


def test_wrong_encoder_stride_is_reported():
    # stage 3 of the ResNet has stride 16: the map is twice as large as expected
    model = build(backbone=dict(out_indices=(2, )), neck=dict(in_channels=32),
                  decoder=dict(in_channels=32))
    with pytest.raises(ValueError, match=r'turned a 32 x 32 quarter into a 2 x 2 map, '
                                         r'expected 1 x 1 for encoder_stride=32'):
        model(torch.randn(2, 3, 64, 64), mode='loss')


def test_encoder_stride_is_the_heads_cell_size():
    assert build().head.patch_size == 32
    # ResNet's stage 3 is the stride-16 map (32 channels): the head follows the stride.
    model = build(encoder_stride=16, backbone=dict(out_indices=(2, )),
                  neck=dict(in_channels=32), decoder=dict(in_channels=32))
    assert model.head.patch_size == 16
    assert model.eval().predict_cells(torch.zeros(1, 3, 64, 64)).shape == (1, 16, 16 * 16 * 3 + 2)


def test_pretrained_loads_the_whole_model_strictly(tmp_path):
    from qbheat_mm.utils.checkpoint import CheckpointMismatchError
    torch.manual_seed(0)
    source = build()
    path = tmp_path / 'qbheat.pth'
    torch.save(dict(state_dict=source.state_dict()), path)
    model = build(pretrained=str(path))
    model.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, msg=key)

    partial = {k: v for k, v in source.state_dict().items() if not k.startswith('neck.')}
    torch.save(dict(state_dict=partial), path)
    with pytest.raises(CheckpointMismatchError, match=r'missing in checkpoint \(2\): neck.A'):
        build(pretrained=str(path)).init_weights()
    with pytest.raises(ValueError, match='pretrained or init_cfg, not both'):
        build(pretrained=str(path), init_cfg=dict(type='Pretrained', checkpoint=str(path)))


def test_detached_statistics_keep_the_values_and_stop_their_gradient_below_the_output():
    """The recipe suspect `detach_stats`: the same loss values, but loss_stats trains only
    the output layer's rows for the statistics; loss_pix trains everything as before."""
    plain, detached = build(), build(decoder=dict(detach_stats=True))
    assert detached.decoder.stats_dims == 2
    x = torch.randn(2, 3, 64, 128)
    losses = [model(x, mode='loss') for model in (plain, detached)]
    for name in ('loss_pix', 'loss_stats'):
        torch.testing.assert_close(losses[0][name], losses[1][name])
    losses[1]['loss_stats'].backward(retain_graph=True)
    decoder = detached.decoder
    assert decoder.pred.weight.grad[-2:].abs().sum() > 0  # the statistics' own rows
    assert decoder.pred.weight.grad[:-2].abs().sum() == 0
    for name, param in [('decoder.embed', decoder.embed.weight), ('neck.A', detached.neck.A),
                        ('backbone.conv1', detached.backbone.conv1.weight)]:
        assert param.grad is None or param.grad.abs().sum() == 0, name
    losses[1]['loss_pix'].backward()
    assert detached.backbone.conv1.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='detach_stats=True needs predicted statistics'):
        build(decoder=dict(detach_stats=True), head=dict(norm_pix=False))
    with pytest.raises(ValueError, match='decoder stats_dims is 0 but the head predicts 2 '
                                         'statistics per cell; leave stats_dims out'):
        decoder = MODELS.build(dict(TINY['decoder'], out_dims=detached.head.pred_dims))
        build(decoder=decoder)
