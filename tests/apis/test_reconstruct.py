"""reconstruct(): the five arrays of one image, and the panel drawn from them."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from qbheat_mm.apis import draw_reconstruction_panel, reconstruct, stack_panels
from qbheat_mm.apis.reconstruct import GREY, resize_center_crop

TINY_CONFIG = Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'qbheat_tiny.py'


@pytest.fixture(scope='module')
def model():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    m = MODELS.build(Config.fromfile(str(TINY_CONFIG)).model)
    m.init_weights()
    return m


def test_arrays_of_one_image(model):
    rgb = np.random.default_rng(0).integers(0, 255, (70, 100, 3)).astype(np.uint8)
    out = reconstruct(model, rgb, img_size=64)
    assert set(out) == {'original', 'visible', 'reconstruction', 'pasted', 'error'}
    expected = resize_center_crop(rgb, 64)
    np.testing.assert_array_equal(out['original'], expected)
    assert (out['visible'][:32, :32] == expected[:32, :32]).all()
    assert (out['visible'][32:] == GREY).all() and (out['visible'][:, 32:] == GREY).all()
    assert (out['pasted'][:32, :32] == expected[:32, :32]).all()
    assert (out['pasted'][32:] == out['reconstruction'][32:]).all()
    err = np.abs(out['reconstruction'].astype(float) - expected.astype(float)).mean(-1)
    np.testing.assert_allclose(out['error'], err, rtol=1e-6)
    assert out['error'].shape == (64, 64) and out['error'][32:].mean() > 0
    assert model.training  # restored after the eval-mode forward


def test_channel_order_is_rgb(model):
    # A red image must come back red: the visible quarter is the input's own pixels.
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 200
    out = reconstruct(model, red)
    assert tuple(out['original'][0, 0]) == (200, 0, 0)


def test_panel_geometry():
    result = dict(original=np.zeros((32, 48, 3), np.uint8), error=np.zeros((32, 48)))
    for name in ('visible', 'reconstruction', 'pasted'):
        result[name] = np.zeros((32, 48, 3), np.uint8)
    row = draw_reconstruction_panel(result)
    assert row.shape == (16 + 32, 5 * 48 + 4 * 4, 3) and row.dtype == np.uint8
    assert stack_panels([row, row, row]).shape == (3 * 48 + 2 * 4, 5 * 48 + 16, 3)


def test_bad_input(model):
    with pytest.raises(ValueError, match='expected an H x W x 3 RGB array'):
        reconstruct(model, np.zeros((64, 64)))
    with pytest.raises(ValueError, match='cannot read an image'):
        reconstruct(model, '/nonexistent.png')
    with pytest.raises(ValueError, match='multiples of 2 x encoder_stride = 64, got 64 x 96'):
        reconstruct(model, np.zeros((64, 96, 3), np.uint8))
