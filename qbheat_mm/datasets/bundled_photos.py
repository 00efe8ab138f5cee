"""The photographs that ship inside the scikit-image wheel, as uint8 RGB arrays.

Nothing is downloaded: every name here loads from the installed package. The generated
datasets (demo photos, the laptop objects, the demo COCO set) draw from this one table of
object crops, so a box is written once.
"""
from typing import Dict, Optional, Tuple

import numpy as np

Box = Tuple[int, int, int, int]  # x0, y0, x1, y1 in the photograph

# object name -> (skimage.data photograph, crop box, or None for the whole photograph)
OBJECT_CROPS: Dict[str, Tuple[str, Optional[Box]]] = {
    'cat': ('chelsea', (70, 0, 390, 290)),
    'coffee cup': ('coffee', (75, 15, 480, 390)),
    'astronaut': ('astronaut', (145, 10, 305, 195)),
    'motorcycle': ('stereo_motorcycle', (90, 95, 690, 455)),
    'cameraman': ('camera', None),
    'clock': ('clock', None),
    'coins': ('coins', None),
    'colour wheel': ('colorwheel', None),
    'horse': ('horse', None),
    'page': ('page', None),
    'text': ('text', None),
    'checkerboard': ('checkerboard', None),
    'phantom': ('shepp_logan_phantom', None),
    'cell': ('cell', None),
    'moon': ('moon', None),
    'logo': ('logo', None),
}


def load_photo(name: str) -> np.ndarray:
    """A bundled photograph as an H x W x 3 uint8 RGB array (grey ones repeated to 3).

    Boolean and float images are scaled to 0-255, an alpha channel is dropped, and
    ``stereo_motorcycle`` gives its left view.
    """
    import skimage.data  # the demo extra; imported here so the module loads without it
    image = getattr(skimage.data, name)()
    if name == 'stereo_motorcycle':  # (left, right, disparity)
        image = image[0]
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype.kind == 'f':
        image = np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def load_object(name: str) -> np.ndarray:
    """The crop of :data:`OBJECT_CROPS` ``name`` as an RGB array."""
    if name not in OBJECT_CROPS:
        raise KeyError(f'unknown object {name!r}; known: {sorted(OBJECT_CROPS)}')
    photo, box = OBJECT_CROPS[name]
    image = load_photo(photo)
    if box is None:
        return image
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(image[y0:y1, x0:x1])
