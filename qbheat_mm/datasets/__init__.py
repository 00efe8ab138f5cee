"""Datasets registered in ``mmpretrain.registry.DATASETS``, and the image checks (decode
errors that name the file, installed here; :func:`check_dataset` for a whole config)."""
from .demo_photos import DemoPhotoDataset, prepare_demo_photos
from .heat_control import HeatControlDataset
from .laptop_objects import LaptopObjectsDataset, prepare_laptop_objects
from .image_checks import (BadImage, ImageDecodeError, check_dataset, check_image,
                           install as _install_image_checks, skip_bad_images)

_install_image_checks()

__all__ = ['BadImage', 'DemoPhotoDataset', 'HeatControlDataset', 'ImageDecodeError',
           'LaptopObjectsDataset', 'check_dataset', 'check_image', 'prepare_demo_photos',
           'prepare_laptop_objects', 'skip_bad_images']
