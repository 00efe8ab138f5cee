"""Our model index in MMPretrain's ``ModelHub``: ``mmpretrain.list_models('*qbheat*')``,
``get_model(NAME)`` and the inferencers find our configs once ``qbheat_mm`` is imported;
:func:`~qbheat_mm.utils.config.config_path` finds a config by name.

The index (``model-index.yml``, importing ``metafiles/*.yml``) uses MMPretrain's metafile
schema; config paths in it are relative to its folder. A source checkout (or an editable
install) reads them from the repository root; a built package (``pip install .``, a
wheel) ships them under ``qbheat_mm/.mim/`` (``setup.py``), as MMPretrain does.
No model has ``Weights``: none are published, so ``get_model(NAME, pretrained=True)``
stops in MMPretrain with its own message, and ``pretrained=PATH`` loads a local file.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from mmengine.logging import print_log
from mmpretrain.apis import ModelHub

from qbheat_mm.utils.config import CONFIG_PREFIX, PROJECT_FILES, config_path

__all__ = ['CONFIG_PREFIX', 'MODEL_INDEX', 'config_path', 'register_model_index']

MODEL_INDEX = PROJECT_FILES / 'model-index.yml'
_registered: list[Path] = []


def register_model_index(path: Optional[Path] = None) -> bool:
    """Register the model index with MMPretrain's ``ModelHub`` once; True if registered.

    Args:
        path: A model-index file; default :data:`MODEL_INDEX`. Its config paths are read
            relative to its folder.
    """
    path = Path(path or MODEL_INDEX)
    if path in _registered:
        return True
    if not path.is_file():
        print_log(f'qbheat_mm: no model index at {path} (not a source checkout); '
                  'mmpretrain.list_models() will not list our models.', logger='current',
                  level=logging.DEBUG)
        return False
    ModelHub.register_model_index(str(path), config_prefix=str(path.parent))
    _registered.append(path)
    return True
