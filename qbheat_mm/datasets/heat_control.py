r"""The known-answer control of QB-Heat: images whose masked quarters are a fixed linear
function of the visible quarter, and copying it is wrong.

**A control, not a benchmark**: this data is built so that the heat operator *must* win.
It answers one question, "does a correct QB-Heat use its operator?", in a setting where
the right answer is known; it says nothing about photographs.

Every image is a sum of plane waves with **fixed wave vectors** (:data:`CONTROL_WAVES`,
the same for every image) and random amplitudes, phases and colours, on a random
background colour:

.. math::

    I(x, y) = 127.5 + b + \sum_k a_k c_k \cos(2\pi (u_k x + v_k y) / S + \varphi_k),

with S the image side, (u_k, v_k) in cycles per image, b and c_k colour vectors. Shifting
a wave by half the image (one quarter) multiplies its complex amplitude
a_k e^{i\varphi_k} by e^{i\pi u_k} (right) or e^{i\pi v_k} (down): a fixed rotation of
the pair (a_k \cos\varphi_k, a_k \sin\varphi_k). So:

- **The masked quarters are linear in the visible one.** The visible quarter determines
  every wave's complex amplitude by least squares (a fixed linear map of its pixels), and
  each masked quarter is those amplitudes rotated and re-synthesised: another fixed
  linear map. :func:`linear_extrapolation` is that map, the known answer; it scores
  about 59 dB, the limit of 8-bit rounding.
- **The law is linear in features a CNN can form.** The features of a cell that a
  convolution can compute linearly, its correlations with the cosine and sine of each
  wave, *are* the rotated pairs (one per wave and colour). The cell one quarter to the
  right holds the same pairs, rotated by the fixed angles: (I + A) z is exactly that
  rotation when z holds those correlations, and the same holds for B. Cell
  normalisation (``norm_pix``) is undone by the predicted statistics, which are
  functions of the same pairs.
- **Copying is wrong.** Every wave is rotated by at least 90 degrees in each masked
  quarter (:func:`quarter_rotations`), so neither the copy of the visible quarter nor a
  flat colour nor any prediction shared by the three quarters (what a frozen operator,
  A = B = 0, leaves a per-quarter decoder) can be right. :func:`shared_extrapolation`
  is the best such shared prediction, the ceiling of the frozen operator.

No augmentation may be used with it: a flip mirrors u_k and a rescaled crop changes the
wave vectors, and then the law no longer holds. Images are generated from
(seed, split, index) on the fly, so the set is as large as asked for and nothing is
written to disk.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

#: Wave vectors (u, v) in cycles per image, fixed for every image. Chosen so that
#:
#: - each wave turns by at least 90 degrees between the visible quarter and each masked
#:   one (right: pi u, bottom: pi v, diagonal: pi (u + v)), with a different pattern of
#:   turns per wave (-90, 180, 90 and 180, 90, -90 degrees), so A and B must tell the
#:   waves apart, and the three masked quarters share no prediction that is right;
#: - the visible quarter tells the waves apart: the least-squares problem of
#:   :func:`linear_extrapolation` has condition number 2.1 (:func:`visible_condition`);
#: - the demo's model learns to encode them within its 600-iteration budget.
#:
#: Two earlier sets failed the last two points (docs/en/experiments/control.md): four
#: slow waves (under one cycle per quarter, condition number 34) were barely
#: identifiable from the visible quarter, and four fast ones (condition number 1.6) were
#: not learned at all in 600 iterations, with either operator.
CONTROL_WAVES: Tuple[Tuple[float, float], ...] = ((1.5, 1.0), (1.0, -1.5))
#: Largest condition number :class:`HeatControlDataset` accepts for its waves.
MAX_CONDITION = 4.
#: Largest background offset and total wave amplitude (0-255 scale) around mid-grey: the
#: sum stays within 0-255, so no pixel is clipped and the law stays exactly linear.
BACKGROUND = 30.
AMPLITUDE = 95.
SPLITS = ('train', 'val')


def quarter_rotations(waves: Sequence[Tuple[float, float]] = CONTROL_WAVES) -> np.ndarray:
    """Each wave's phase turn (radians, in (-pi, pi]) from the visible quarter to the
    right, bottom and diagonal quarters: K x 3."""
    uv = np.asarray(waves, dtype=np.float64)
    turns = np.pi * np.stack([uv[:, 0], uv[:, 1], uv.sum(1)], axis=1)
    return np.angle(np.exp(1j * turns))


def visible_condition(waves: Sequence[Tuple[float, float]] = CONTROL_WAVES,
                      img_size: int = 128) -> float:
    """Condition number of the waves' basis (constant, cos, sin of each wave) over the
    visible quarter: how much recovering the amplitudes from it amplifies errors."""
    h = img_size // 2
    ys, xs = np.mgrid[0:h, 0:h].astype(np.float64)
    singular = np.linalg.svd(_basis(ys, xs, img_size, waves), compute_uv=False)
    return float(singular.max() / singular.min())


def synthesize(rng: np.random.Generator, img_size: int,
               waves: Sequence[Tuple[float, float]] = CONTROL_WAVES) -> np.ndarray:
    """One control image, img_size x img_size x 3 float64 in 0-255 (RGB, unrounded)."""
    K = len(waves)
    amps = rng.uniform(0.25, 1.0, K)
    amps *= AMPLITUDE / amps.sum() * rng.uniform(0.6, 1.0)  # total within AMPLITUDE
    phases = rng.uniform(0, 2 * np.pi, K)
    colours = rng.uniform(-1, 1, (K, 3))
    colours /= np.abs(colours).max(axis=1, keepdims=True)  # max |c| = 1 per wave
    background = rng.uniform(-BACKGROUND, BACKGROUND, 3)
    ys, xs = np.mgrid[0:img_size, 0:img_size].astype(np.float64)
    img = np.full((img_size, img_size, 3), 127.5) + background
    for (u, v), a, phi, c in zip(waves, amps, phases, colours):
        wave = np.cos(2 * np.pi * (u * xs + v * ys) / img_size + phi)
        img += a * wave[..., None] * c
    return img


def _basis(ys: np.ndarray, xs: np.ndarray, img_size: int,
           waves: Sequence[Tuple[float, float]]) -> np.ndarray:
    """The constant, then cos and sin of every wave, at the given pixels: P x (1 + 2K)."""
    cols = [np.ones(ys.size)]
    for u, v in waves:
        arg = 2 * np.pi * (u * xs.ravel() + v * ys.ravel()) / img_size
        cols += [np.cos(arg), np.sin(arg)]
    return np.stack(cols, axis=1)


def linear_extrapolation(image: np.ndarray,
                         waves: Sequence[Tuple[float, float]] = CONTROL_WAVES
                         ) -> np.ndarray:
    """The known answer: the full image predicted from its visible top-left quarter alone
    by a fixed linear map (least-squares wave amplitudes, re-synthesised everywhere).

    Args:
        image (np.ndarray): S x S x C (any channel order), 0-255. Only the top-left
            S/2 x S/2 quarter is read.
        waves: The wave vectors the image was made with.

    Returns:
        np.ndarray: S x S x C float64, the prediction of every pixel.
    """
    S = image.shape[0]
    if image.ndim != 3 or image.shape[1] != S or S % 2:
        raise ValueError(f'expected a square S x S x C image with S even, got shape '
                         f'{image.shape}')
    h = S // 2
    ys, xs = np.mgrid[0:h, 0:h].astype(np.float64)
    visible = image[:h, :h].reshape(h * h, -1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(_basis(ys, xs, S, waves), visible, rcond=None)
    ys, xs = np.mgrid[0:S, 0:S].astype(np.float64)
    return (_basis(ys, xs, S, waves) @ coef).reshape(S, S, -1)


def shared_extrapolation(image: np.ndarray,
                         waves: Sequence[Tuple[float, float]] = CONTROL_WAVES
                         ) -> np.ndarray:
    """The ceiling of a frozen operator: the best prediction (in squared error) that is
    the same in the three masked quarters, the mean of their known answers.

    With A = B = 0 the three masked quarters hold the same features as the visible one,
    and a per-quarter decoder cannot tell them apart, so it can at best learn this.
    Takes and returns what :func:`linear_extrapolation` does; the visible quarter is its
    known answer too.
    """
    full = linear_extrapolation(image, waves)
    h = image.shape[0] // 2
    shared = (full[:h, h:] + full[h:, :h] + full[h:, h:]) / 3
    full[:h, h:] = full[h:, :h] = full[h:, h:] = shared
    return full


@DATASETS.register_module()
class HeatControlDataset(BaseDataset):
    """The known-answer control (see :mod:`qbheat_mm.datasets.heat_control`).

    A control: its masked quarters are, by construction, a fixed linear function of the
    visible quarter that copying gets wrong, so a working QB-Heat must beat its frozen
    operator on it. Images are made on the fly from ``(seed, split, index)``: uint8, BGR
    like a decoded file (use the usual ``to_rgb=True`` preprocessor), with one class.
    Use no augmentation (see the module docstring).

    Args:
        num_samples (int): Images in this split.
        split (str): ``'train'`` or ``'val'``; the two draw from disjoint random streams.
        img_size (int): Image side S in pixels (even). Defaults to 128.
        seed (int): Generation seed. Defaults to 0.
        waves (sequence of (u, v)): Wave vectors in cycles per image. Defaults to
            :data:`CONTROL_WAVES`.
        **kwargs: Passed to :class:`mmpretrain.datasets.BaseDataset` (``pipeline``,
            ``test_mode``, ...).
    """

    METAINFO = dict(classes=('plane_waves', ))

    def __init__(self,
                 num_samples: int,
                 split: str = 'train',
                 img_size: int = 128,
                 seed: int = 0,
                 waves: Sequence[Sequence[float]] = CONTROL_WAVES,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if num_samples < 1:
            raise ValueError(f'num_samples must be at least 1, got {num_samples}')
        if img_size < 2 or img_size % 2:
            raise ValueError(f'img_size must be even (four equal quarters), got {img_size}')
        self.waves = tuple((float(u), float(v)) for u, v in waves)
        if not self.waves:
            raise ValueError('waves is empty: give at least one (u, v) wave vector')
        turns = np.abs(quarter_rotations(self.waves))
        if turns.min() < math.pi / 4:
            raise ValueError(
                f'the waves {self.waves} turn by as little as {math.degrees(turns.min()):.0f} '
                'degrees from the visible quarter to a masked one, so copying is nearly '
                'right; choose wave vectors whose pi * u, pi * v and pi * (u + v) are at '
                'least 45 degrees away from a multiple of 360')
        condition = visible_condition(self.waves, img_size)
        if condition > MAX_CONDITION:
            raise ValueError(
                f'the waves {self.waves} are hard to tell apart on the visible quarter '
                f'(condition number {condition:.1f} > {MAX_CONDITION}), so their masked '
                'quarters are barely determined by it; use faster or more distinct waves '
                '(at least one cycle per quarter)')
        self.num_samples = num_samples
        self.split = split
        self.img_size = img_size
        self.seed = seed
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        return [dict(sample_idx=i, gt_label=0) for i in range(self.num_samples)]

    def image(self, idx: int) -> np.ndarray:
        """Image ``idx`` of this split: S x S x 3 uint8, BGR."""
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), idx])
        rgb = synthesize(rng, self.img_size, self.waves)
        return np.round(rgb[..., ::-1]).clip(0, 255).astype(np.uint8)

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        img = self.image(info['sample_idx'])
        return dict(info, img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Image size: \t{self.img_size}',
                f'Seed: \t{self.seed}', f'Waves (cycles per image): \t{self.waves}']
