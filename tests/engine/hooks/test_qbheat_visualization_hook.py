"""A few Runner iterations of a tiny QB-Heat: training, validation PSNR, checkpoints and
the reconstruction pictures of QBHeatVisualizationHook."""
import math
from pathlib import Path

import cv2
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.engine.hooks import QBHeatVisualizationHook

TINY_CONFIG = Path(__file__).resolve().parents[2] / 'data' / 'configs' / 'qbheat_tiny.py'
ROW_H, ROW_W = 16 + 64, 5 * 64 + 4 * 4  # title band + image; five panels, 4 px apart


@pytest.mark.slow
def test_runner_trains_validates_and_draws(tmp_path):
    cfg = Config.fromfile(str(TINY_CONFIG))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(tmp_path / 'demo')
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()

    hub = runner.message_hub
    assert math.isfinite(hub.get_scalar('train/loss').current())
    for quadrant in ('visible', 'right', 'bottom', 'diagonal', 'masked'):
        psnr = hub.get_scalar(f'val/recon/psnr_{quadrant}').current()
        assert 3 < psnr < 60, (quadrant, psnr)
    # the trivial baselines and the gain over them are logged with every validation
    copy = hub.get_scalar('val/recon/psnr_masked_copy').current()
    flat = hub.get_scalar('val/recon/psnr_masked_flat').current()
    gain = hub.get_scalar('val/recon/psnr_masked_gain').current()
    masked = hub.get_scalar('val/recon/psnr_masked').current()
    assert gain == pytest.approx(masked - max(copy, flat))
    assert hub.get_scalar('val/recon/psnr_masked_gtstats').current() > 3
    work = Path(cfg.work_dir)
    assert (work / 'iter_2.pth').is_file() and (work / 'iter_4.pth').is_file()

    # before training, every 2 iterations, and not twice at the end
    pictures = sorted(p.name for p in (work / 'reconstructions').iterdir())
    assert pictures == ['iter_000000.png', 'iter_000002.png', 'iter_000004.png']
    img = cv2.imread(str(work / 'reconstructions' / 'iter_000004.png'))
    assert img.shape == (2 * ROW_H + 4, ROW_W, 3)  # two images, 4 px apart
    assert list(work.glob('*/vis_data/vis_image/reconstruction_2.png'))


def test_bad_arguments():
    with pytest.raises(ValueError, match='interval and num_images must be >= 1'):
        QBHeatVisualizationHook(interval=0)
