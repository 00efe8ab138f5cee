"""The demo config (Mobile-Former-294M on DemoPhotoDataset): loss falls and validation
PSNR rises over its first iterations."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (registration)

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'qbheat_mobileformer_demo.py'
ITERS = 30


def test_demo_learns_in_its_first_iterations(tmp_path):
    cfg = Config.fromfile(str(DEMO))
    assert cfg.model.backbone.type == 'MobileFormer'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(tmp_path / 'demo')
        loader.num_workers, loader.persistent_workers = 0, False
    cfg.val_dataloader.dataset.indices = 16  # the first 16 val crops: enough to see a trend
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = ITERS
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    start = runner.val()['recon/psnr_masked']
    runner.train()

    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == ITERS
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.85 * first, (first, last)
    end = runner.message_hub.get_scalar('val/recon/psnr_masked').current()
    assert end > start + 0.3, (start, end)
    assert (Path(cfg.work_dir) / f'iter_{ITERS}.pth').is_file()
    assert (Path(cfg.work_dir) / 'reconstructions' / f'iter_{ITERS:06d}.png').is_file()
