"""Shared fixtures: tiny generated data so every test runs in seconds on 2 CPU cores."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config


def write_image_folder(root: Path, classes=('a', 'b'), per_class: int = 4,
                       size: int = 32, seed: int = 0) -> Path:
    """MMPretrain ``CustomDataset`` folder layout (``root/<class>/<n>.png``) of noise images
    whose mean colour depends on the class, so a classifier can learn something."""
    import cv2
    rng = np.random.default_rng(seed)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.integers(0, 128, (size, size, 3)) + 100 * c
            cv2.imwrite(str(root / name / f'{i}.png'), img.clip(0, 255).astype(np.uint8))
    return root


@pytest.fixture(scope='session')
def make_image_folder():
    """The :func:`write_image_folder` helper, for fixtures of any scope."""
    return write_image_folder


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / 'images')


@pytest.fixture
def caplog_mmengine():
    """The records MMEngine's current logger emits during the test (its logger does not
    propagate to the root logger, which pytest's caplog reads)."""
    import logging

    from mmengine.logging import MMLogger

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = MMLogger.get_current_instance()
    handler = Keep(level=logging.DEBUG)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


#: The tiny QB-Heat config of the tests (tests/data/configs/qbheat_tiny.py).
TINY_QBHEAT_CONFIG = Path(__file__).resolve().parent / 'data' / 'configs' / 'qbheat_tiny.py'


@pytest.fixture(scope='session')
def tiny_cfg() -> dict:
    return Config.fromfile(TINY_QBHEAT_CONFIG).model


@pytest.fixture
def tiny_qbheat(tiny_cfg):
    """The tiny QB-Heat of the speed and decoding tests, ``make(seed=0, **decoder)``: in
    train mode, A and B drawn from N(0, 0.05^2) instead of their zero init, so no two
    quarters are equal."""
    import qbheat_mm  # noqa: F401  (registration)
    from mmpretrain.registry import MODELS

    def make(seed: int = 0, **decoder) -> torch.nn.Module:
        torch.manual_seed(seed)
        cfg = copy.deepcopy(tiny_cfg)
        cfg['decoder'].update(decoder)
        model = MODELS.build(cfg).train()
        with torch.no_grad():
            model.neck.A.normal_(std=0.05)
            model.neck.B.normal_(std=0.05)
        return model

    return make


@pytest.fixture(autouse=True)
def _mmpretrain_default_scope_after_each_test():
    """MMEngine keeps one process-wide default scope, which a Runner built with another
    one (``default_scope='mmengine'``, a detection config's ``mmdet``) leaves behind:
    every test starts from MMPretrain's, the scope of the project's components."""
    yield
    import uuid

    from mmengine.registry import DefaultScope
    current = DefaultScope.get_current_instance()
    if current is not None and current.scope_name != 'mmpretrain':
        DefaultScope.get_instance(f'test-{uuid.uuid4().hex}', scope_name='mmpretrain')
