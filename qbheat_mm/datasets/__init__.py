"""Datasets registered in ``mmpretrain.registry.DATASETS``, and the image checks (decode
errors that name the file, installed by the project's tools, not on import;
:func:`check_dataset` for a whole config)."""
import os

from .demo_photos import DemoPhotoDataset, prepare_demo_photos
from .heat_control import HeatControlDataset
from .laptop_objects import LaptopObjectsDataset, prepare_laptop_objects
from .image_checks import (INSTALL_ENV as _INSTALL_ENV, BadImage, ImageDecodeError,
                           check_dataset, check_image, install as _install_image_checks,
                           skip_bad_images)

if os.environ.get(_INSTALL_ENV) == '1':  # a process started by a run that installed them
    _install_image_checks()

__all__ = ['BadImage', 'DemoPhotoDataset', 'HeatControlDataset', 'ImageDecodeError',
           'LaptopObjectsDataset', 'check_dataset', 'check_image', 'prepare_demo_photos',
           'prepare_laptop_objects', 'skip_bad_images']
