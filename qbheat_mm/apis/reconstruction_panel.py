"""Draw the five-panel reconstruction picture shared by the tool and the training hook."""
from typing import Dict, Sequence

import cv2
import numpy as np

PANELS = ('original', 'visible', 'reconstruction', 'pasted', 'error')
GAP = 4  # white pixels between panels
TITLE_HEIGHT = 16  # the band above the panels holding their names
ERROR_RANGE = 64.  # mean absolute error (0-255 pixels) drawn at full colour


def error_to_rgb(error: np.ndarray) -> np.ndarray:
    """Colour an H x W error map (0-255 pixel units) with a fixed scale, as RGB uint8.

    The scale is fixed (0 to ``ERROR_RANGE``) rather than per image, so maps from
    different images and training iterations compare directly.
    """
    level = np.clip(error / ERROR_RANGE * 255, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(level, cv2.COLORMAP_INFERNO)[..., ::-1]


def draw_reconstruction_panel(result: Dict[str, np.ndarray]) -> np.ndarray:
    """One row: original | visible | reconstruction | pasted | error, with titles.

    Args:
        result (dict): Output of :func:`qbheat_mm.apis.reconstruct` (or
            :func:`reconstruction_arrays`), images H x W x 3 and ``error`` H x W.

    Returns:
        np.ndarray: RGB uint8 of height ``TITLE_HEIGHT + H`` and width
        ``5 * W + 4 * GAP``.
    """
    H, W = result['original'].shape[:2]
    row = np.full((TITLE_HEIGHT + H, 5 * W + 4 * GAP, 3), 255, np.uint8)
    for k, name in enumerate(PANELS):
        img = error_to_rgb(result[name]) if name == 'error' else result[name]
        x = k * (W + GAP)
        row[TITLE_HEIGHT:, x:x + W] = img
        # cv2 draws into a contiguous array in place; its colour order does not matter
        # for black text.
        cv2.putText(row, name, (x + 2, TITLE_HEIGHT - 4), cv2.FONT_HERSHEY_SIMPLEX,
                    0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return row


def stack_panels(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Stack panel rows of equal width vertically, ``GAP`` white pixels apart."""
    if not rows:
        raise ValueError('no panel rows to stack')
    width = rows[0].shape[1]
    gap = np.full((GAP, width, 3), 255, np.uint8)
    parts = []
    for i, row in enumerate(rows):
        if row.shape[1] != width:
            raise ValueError(f'panel rows differ in width: {row.shape[1]} vs {width}')
        parts.extend([gap, row] if i else [row])
    return np.concatenate(parts, axis=0)


def save_rgb(path: str, rgb: np.ndarray) -> None:
    """Write an RGB uint8 array as an image file (PNG by extension)."""
    if not cv2.imwrite(path, np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f'could not write {path}')
