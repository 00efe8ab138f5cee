"""qbheat_mm.compat's mmcv patch: ``adjust_hue`` with negative hue factors under numpy 2:
still needed by the pinned mmcv, and otherwise mmcv's own result (the checkpoint patch is
tested in tests/compat/test_compat_checkpoint.py; the CPU distributed support, which is not a
patch, in tests/dist/test_cpu_distributed.py)."""
import cv2
import mmcv
import numpy as np
import pytest
from PIL import Image

from qbheat_mm import compat


def test_hue_patch_is_installed():
    assert compat.HUE_PATCH_NEEDED
    assert mmcv.adjust_hue is compat.adjust_hue
    assert mmcv.image.photometric.adjust_hue is compat.adjust_hue


@pytest.mark.parametrize('hue_factor', [-0.5, -0.1, -0.0431, 0.0, 0.1, 0.5])
def test_cv2_hue_shift_wraps_like_uint8_arithmetic(hue_factor):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out = mmcv.adjust_hue(img, hue_factor, backend='cv2')
    h, s, v = cv2.split(cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL))
    shifted = ((h.astype(int) + int(hue_factor * 255)) % 256).astype(np.uint8)
    expected = cv2.cvtColor(cv2.merge([shifted, s, v]), cv2.COLOR_HSV2BGR_FULL)
    assert np.array_equal(out, expected)


@pytest.mark.parametrize('hue_factor', [-0.3, 0.3])
def test_pillow_hue_shift_wraps_like_uint8_arithmetic(hue_factor):
    img = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out = mmcv.adjust_hue(img, hue_factor, backend='pillow')
    h, s, v = Image.fromarray(img[..., ::-1], 'RGB').convert('HSV').split()
    shifted = ((np.array(h).astype(int) + int(hue_factor * 255)) % 256).astype(np.uint8)
    merged = Image.merge('HSV', (Image.fromarray(shifted, 'L'), s, v)).convert('RGB')
    assert np.array_equal(out, np.array(merged)[..., ::-1])


def test_out_of_range_factor_is_still_rejected():
    with pytest.raises(ValueError, match='not in'):
        mmcv.adjust_hue(np.zeros((4, 4, 3), np.uint8), -0.6, backend='cv2')


def test_the_pinned_mmcv_still_crashes_without_the_patch():
    """Fails once mmcv handles negative hue factors under numpy 2 itself: then delete the
    patch (and this test)."""
    with pytest.raises(OverflowError, match='out of bounds for uint8'):
        compat._MMCV_ADJUST_HUE(np.zeros((4, 4, 3), np.uint8), -0.1, backend='cv2')


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('hue_factor', [0.0, 0.0431, 0.25, 0.5])
def test_factors_mmcv_handles_give_mmcvs_own_result(backend, hue_factor):
    img = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert np.array_equal(mmcv.adjust_hue(img, hue_factor, backend=backend),
                          compat._MMCV_ADJUST_HUE(img, hue_factor, backend=backend))
