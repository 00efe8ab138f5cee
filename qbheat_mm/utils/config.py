"""Where the project is and how its configs are read: the one project root, project
configs by name (``qbheat_mm::DIR/NAME.py``), and reading a config the way every tool does.

A source checkout (or an editable install) reads configs, metafiles and the model index
from the repository root; a built package (``pip install .``, a wheel) ships them under
``qbheat_mm/.mim/`` (``setup.py``), as MMPretrain does.
"""
from __future__ import annotations

import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmengine.config import Config

__all__ = ['REPO', 'PACKAGE', 'PROJECT_FILES', 'CONFIG_PREFIX', 'config_path', 'read_config']

#: The ``qbheat_mm`` package folder.
PACKAGE = Path(__file__).resolve().parents[1]
#: The folder above the package: the repository root of a source checkout (where
#: ``tools/`` and ``configs/`` are), the site-packages folder of an installed package.
REPO = str(PACKAGE.parent)
_SHIPPED = PACKAGE / '.mim'
#: Where the model index, the metafiles and ``configs/`` are: shipped inside a built
#: package, else the source checkout's root.
PROJECT_FILES = _SHIPPED if (_SHIPPED / 'model-index.yml').is_file() else PACKAGE.parent
#: A config named ``qbheat_mm::qbheat/NAME.py`` is ``configs/qbheat/NAME.py`` of the project.
CONFIG_PREFIX = 'qbheat_mm::'


def config_path(name: str) -> str:
    """The file of a project config named ``qbheat_mm::DIR/NAME.py`` (or ``DIR/NAME.py``,
    relative to ``configs/``), from a source checkout or a built package.

    Raises:
        FileNotFoundError: No such config; the message names where it looked.
    """
    relative = name[len(CONFIG_PREFIX):] if name.startswith(CONFIG_PREFIX) else name
    path = PROJECT_FILES / 'configs' / relative
    if not path.is_file():
        raise FileNotFoundError(f'config {name!r} not found: no {path} (names are relative '
                                f"to the project's configs/, e.g. "
                                f"{CONFIG_PREFIX}qbheat/qbheat_mobileformer-294m_1xb16-800i_"
                                'demo-photos.py)')
    return str(path)


def read_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """A config (a path, read with its ``custom_imports``; a project config by name,
    ``qbheat_mm::DIR/NAME.py``; or a Config, copied) with ``cfg_options`` merged in.

    A detection config read without mmcv's compiled ops stops with its own named error
    (:class:`~qbheat_mm.utils.mmcv_ops.MissingMmcvOpsError`) instead of MMEngine's
    generic "set PYTHONPATH" wrapper of a failed custom import."""
    from qbheat_mm.utils.mmcv_ops import MissingMmcvOpsError

    if isinstance(config, str) and config.startswith(CONFIG_PREFIX):
        config = config_path(config)
    if isinstance(config, Config):
        cfg = Config(config.to_dict(), filename=config.filename)
    elif not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    else:
        try:
            cfg = Config.fromfile(config)
        except ImportError as error:
            cause = error
            while cause is not None and not isinstance(cause, MissingMmcvOpsError):
                cause = cause.__cause__ or cause.__context__
            if cause is not None:
                raise cause from None
            raise
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
