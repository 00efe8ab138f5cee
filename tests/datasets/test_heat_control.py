"""HeatControlDataset, the known-answer control: its masked quarters are a fixed linear
function of the visible quarter (the known answer reaches the 8-bit limit) and copying
is wrong; images are deterministic, unclipped and fed like decoded files."""
import math
import re

import numpy as np
import pytest
import torch

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import DATASETS
from qbheat_mm.datasets.heat_control import (CONTROL_WAVES, HeatControlDataset,
                                             linear_extrapolation, quarter_rotations,
                                             shared_extrapolation, visible_condition)
from qbheat_mm.evaluation.reconstruction_metric import (BASELINES, psnr, quadrant_mse)


def chw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)


def masked_psnr(pred: torch.Tensor, img: torch.Tensor) -> float:
    """Masked PSNR of a C x H x W prediction, as ReconstructionMetric scores it."""
    return psnr(quadrant_mse(pred, img)['masked'])


def test_images_are_deterministic_unclipped_bgr_uint8_and_splits_differ():
    train = HeatControlDataset(num_samples=8, split='train', img_size=64)
    again = HeatControlDataset(num_samples=8, split='train', img_size=64)
    val = HeatControlDataset(num_samples=8, split='val', img_size=64)
    other_seed = HeatControlDataset(num_samples=8, split='train', img_size=64, seed=1)
    img = train.image(3)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, again.image(3))
    assert not np.array_equal(img, val.image(3))
    assert not np.array_equal(img, other_seed.image(3))
    assert not np.array_equal(img, train.image(4))
    # No pixel reaches the ends of the range: nothing is clipped, the law stays linear.
    stack = np.stack([train.image(i) for i in range(8)])
    assert stack.min() > 0 and stack.max() < 255
    info = train.get_data_info(3)
    np.testing.assert_array_equal(info['img'], img)
    assert info['img_shape'] == (64, 64) and info['gt_label'] == 0


@pytest.mark.parametrize('img_size', [64, 128, 256])
def test_known_answer_is_linear_in_the_visible_quarter_and_copying_is_wrong(img_size):
    ds = HeatControlDataset(num_samples=6, split='val', img_size=img_size)
    half = img_size // 2
    known, shared, trivial = [], [], {name: [] for name in BASELINES}
    for i in range(len(ds)):
        img = ds.image(i).astype(np.float64)
        pred = linear_extrapolation(img)
        # Only the visible quarter is read: changing the rest changes nothing.
        scrambled = img.copy()
        scrambled[half:] = 0
        scrambled[:, half:] = 255
        np.testing.assert_allclose(linear_extrapolation(scrambled), pred, atol=1e-9)
        known.append(masked_psnr(chw(pred.clip(0, 255)), chw(img)))
        shared.append(masked_psnr(chw(shared_extrapolation(img).clip(0, 255)), chw(img)))
        for name, predictor in BASELINES.items():
            trivial[name].append(masked_psnr(predictor(chw(img)), chw(img)))
    # 8-bit rounding is the only error of the known answer (about 59 dB). The best a
    # frozen operator can do (one prediction for the three masked quarters) and the
    # trivial predictors that ReconstructionMetric logs stay over 30 dB below it.
    assert min(known) > 50
    assert max(shared) < 25 and max(trivial['copy']) < 22 and max(trivial['flat']) < 24
    assert np.mean(shared) > np.mean(trivial['flat']) > np.mean(trivial['copy'])


def test_every_wave_turns_at_least_90_degrees_and_the_quarter_identifies_them():
    turns = np.degrees(np.abs(quarter_rotations(CONTROL_WAVES)))
    assert turns.shape == (len(CONTROL_WAVES), 3)
    assert turns.min() >= 90 - 1e-9
    assert visible_condition(CONTROL_WAVES) == pytest.approx(2.13, abs=0.01)
    # No wave turns the same way in two quarters: no shared prediction is right.
    assert all(len(set(np.round(row))) == 3 for row in turns * np.sign(
        quarter_rotations(CONTROL_WAVES)))
    # A right shift by half the image turns a wave by pi * u: check on one pure wave.
    u, v = CONTROL_WAVES[0]
    ys, xs = np.mgrid[0:64, 0:64]
    wave = np.exp(2j * np.pi * (u * xs + v * ys) / 64)
    ratio = wave[:32, 32:] / wave[:32, :32]
    np.testing.assert_allclose(ratio, np.exp(1j * quarter_rotations([(u, v)])[0, 0]))


def test_built_from_a_config_and_packed_like_a_decoded_file():
    ds = DATASETS.build(dict(type='HeatControlDataset', num_samples=3, img_size=64,
                             pipeline=[dict(type='PackInputs')]))
    sample = ds[1]
    assert tuple(sample['inputs'].shape) == (3, 64, 64)
    # PackInputs turns H x W x C (BGR) into C x H x W without reordering channels.
    np.testing.assert_array_equal(sample['inputs'].permute(1, 2, 0).numpy(), ds.image(1))
    assert len(ds) == 3 and ds.metainfo['classes'] == ('plane_waves', )


@pytest.mark.parametrize('kwargs, message', [
    (dict(split='test'), "split must be one of ('train', 'val')"),
    (dict(num_samples=0), 'num_samples must be at least 1'),
    (dict(img_size=63), 'img_size must be even'),
    (dict(waves=[]), 'waves is empty'),
    (dict(waves=[(2.0, 3.5)]), 'turn by as little as 0 degrees'),
    (dict(waves=[(0.5, 0.75), (-0.5, 1.5), (1.25, 1.25), (0.75, -1.5)]),
     'condition number 33.7 > 4.0'),
])
def test_bad_settings_are_refused_with_the_reason(kwargs, message):
    settings = dict(num_samples=2, img_size=64)
    settings.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        HeatControlDataset(**settings)


def test_known_answer_refuses_a_non_square_image():
    with pytest.raises(ValueError, match='square S x S x C image with S even'):
        linear_extrapolation(np.zeros((64, 32, 3)))
    assert math.isfinite(visible_condition(img_size=64))
