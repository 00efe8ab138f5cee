"""What every kind of experiment plan shares: reading the plan file."""
from __future__ import annotations

import os.path as osp

from qbheat_mm.utils.runs import REPO

__all__ = ['abs_path', 'read_plan']


def abs_path(path: str) -> str:
    """``path``, relative to the repository root unless absolute."""
    return path if osp.isabs(path) else osp.join(REPO, path)


def read_plan(path: str, options: dict | None = None) -> dict:
    """A plan file as a plain dict, ``options`` (``--plan-options``) merged in."""
    from mmengine.config import Config

    if not osp.isfile(path):
        raise FileNotFoundError(f'plan file not found: {path}')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return cfg.to_dict()
