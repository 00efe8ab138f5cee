"""Fixtures of the 2-process tests; the helpers live in dist_helpers.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from dist_helpers import PHOTOS, dist_train, qbheat_config


@pytest.fixture(scope='session')
def demo_photos(tmp_path_factory) -> Path:
    """The 64 px demo photographs, generated once (DemoPhotoDataset finds them there)."""
    from qbheat_mm.datasets.demo_photos import prepare_demo_photos
    root = tmp_path_factory.mktemp('dist_data') / 'demo_photos_64'
    prepare_demo_photos(str(root), **PHOTOS)
    return root


@pytest.fixture(scope='session')
def qbheat_runs(tmp_path_factory, demo_photos) -> dict:
    """QB-Heat on 2 processes: 2 epochs uninterrupted, then a second run resumed from the
    first one's epoch-1 checkpoint (the state an interrupted job leaves behind)."""
    root = tmp_path_factory.mktemp('qbheat_dist')
    config = qbheat_config(root, demo_photos)
    full, resumed = root / 'full', root / 'resumed'
    out = dist_train(config, full)
    resumed_out = dist_train(config, resumed, '--resume', str(full / 'epoch_1.pth'))
    return dict(config=config, full=full, resumed=resumed, out=out,
                resumed_out=resumed_out)
