"""Reconstruct images with a QB-Heat model: the arrays behind every reconstruction picture."""
from typing import Dict, List, Optional, Union

import cv2
import numpy as np
import torch
from torch import nn

from mmpretrain.structures import DataSample

GREY = 128  # fill of the masked quarters in the "visible" panel


def load_rgb(image: Union[str, np.ndarray]) -> np.ndarray:
    """An image path or H x W x 3 RGB array -> H x W x 3 uint8 RGB array."""
    if isinstance(image, str):
        bgr = cv2.imread(image, cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f'cannot read an image from {image!r}')
        return np.ascontiguousarray(bgr[..., ::-1])
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected an H x W x 3 RGB array, got shape {image.shape}')
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def resize_center_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side to ``size`` (bicubic), then crop the centre square."""
    H, W = rgb.shape[:2]
    scale = size / min(H, W)
    h, w = max(size, round(H * scale)), max(size, round(W * scale))
    resized = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC)
    y, x = (h - size) // 2, (w - size) // 2
    return resized[y:y + size, x:x + size]


@torch.no_grad()
def predict_reconstructions(model: nn.Module, inputs: torch.Tensor) -> List[DataSample]:
    """Run ``model`` (a :class:`QBHeat`) in eval mode on raw images and restore its mode.

    Args:
        model (nn.Module): The QB-Heat model (not a distributed wrapper).
        inputs (torch.Tensor): N x 3 x H x W uint8 images in BGR order, the layout
            ``LoadImageFromFile`` + ``PackInputs`` feed to the data preprocessor (which
            converts to RGB in QB-Heat configs).

    Returns:
        list[DataSample]: ``QBHeat.predict`` outputs (``recon_img``, ``gt_img``).
    """
    was_training = model.training
    model.eval()  # BatchNorm must neither use nor update batch statistics here
    try:
        batch = model.data_preprocessor(
            dict(inputs=inputs, data_samples=[DataSample() for _ in inputs]), False)
        return model(**batch, mode='predict')
    finally:
        model.train(was_training)


def reconstruction_arrays(sample: DataSample) -> Dict[str, np.ndarray]:
    """The five pictures of one ``QBHeat.predict`` output, as H x W (x 3) arrays.

    Returns:
        dict: ``original``, ``visible`` (masked quarters grey), ``reconstruction``,
        ``pasted`` (reconstruction with the visible quarter pasted back), all uint8
        RGB H x W x 3, and ``error`` (float32 H x W: mean absolute error over channels
        between reconstruction and original, in 0-255 pixel units).
    """
    def to_hwc(t: torch.Tensor) -> np.ndarray:
        return t.detach().float().clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()

    original = to_hwc(sample.gt_img)
    reconstruction = to_hwc(sample.recon_img)
    h, w = original.shape[0] // 2, original.shape[1] // 2
    visible = np.full_like(original, GREY)
    visible[:h, :w] = original[:h, :w]
    pasted = reconstruction.copy()
    pasted[:h, :w] = original[:h, :w]
    error = np.abs(reconstruction.astype(np.float32) - original.astype(np.float32)).mean(-1)
    return dict(original=original, visible=visible, reconstruction=reconstruction,
                pasted=pasted, error=error)


def reconstruct(model: nn.Module,
                image: Union[str, np.ndarray],
                img_size: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Reconstruct one image from its top-left quarter.

    Args:
        model (nn.Module): A :class:`QBHeat` model trained on RGB input
            (``to_rgb=True`` in its data preprocessor, as in every QB-Heat config).
        image (str | np.ndarray): Image path, or an H x W x 3 RGB array.
        img_size (int, optional): Resize the shorter side to this and centre-crop a
            square. None keeps the image as it is; its sides must then be multiples of
            2 x the model's encoder stride.

    Returns:
        dict: See :func:`reconstruction_arrays`.
    """
    rgb = load_rgb(image)
    if img_size is not None:
        rgb = resize_center_crop(rgb, img_size)
    bgr = torch.from_numpy(np.ascontiguousarray(rgb[..., ::-1])).permute(2, 0, 1)
    sample = predict_reconstructions(model, bgr[None])[0]
    return reconstruction_arrays(sample)
