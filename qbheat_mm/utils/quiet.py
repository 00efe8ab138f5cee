"""Running MMEngine's ``init_weights`` without its per-parameter log."""
from __future__ import annotations

import logging

from mmengine.logging import MMLogger
from torch import nn

__all__ = ['init_weights_quietly']


def init_weights_quietly(module: nn.Module) -> None:
    """``module.init_weights()`` with the current MMEngine logger at WARNING meanwhile:
    MMEngine logs one INFO record per initialised parameter (thousands of lines for a
    backbone), which buries a tool's own output."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        module.init_weights()
    finally:
        logger.setLevel(level)
