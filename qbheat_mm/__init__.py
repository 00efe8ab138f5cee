"""qbheat_mm: QB-Heat self-supervised pre-training and Mobile-Former for OpenMMLab.

Importing the package applies the compatibility patches in :mod:`qbheat_mm.compat` and
registers every component into MMPretrain's registries (MMDetection configs reach them as
``mmpretrain.<Type>``). MMDetection-only code lives in :mod:`qbheat_mm.det` and is imported
only by detection configs, so ``import qbheat_mm`` never imports MMDetection.
"""
from . import compat  # noqa: F401  (must run before any checkpoint is loaded)
from . import apis, datasets, engine, evaluation, models, utils  # noqa: F401  (registration)

__version__ = '0.1.0'
__all__ = ['__version__']
