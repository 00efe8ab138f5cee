"""tools/train.py --tensorboard: event files with the loss, the learning rate, the
validation metrics and the reconstruction pictures of the tiny QB-Heat config."""
from __future__ import annotations

from pathlib import Path

import pytest
from mmengine.config import Config

from tool_loader import load_tool

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
QBHEAT_TINY = REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py'



def test_tensorboard_event_files_hold_loss_lr_metrics_and_pictures(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = Config.fromfile(QBHEAT_TINY)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(tmp_path / 'photos')
    # The visualizer is a named global: a unique name keeps its files in this work dir.
    cfg.experiment_name = f'tb_{tmp_path.name}'
    cfg.dump(tmp_path / 'qbheat_tiny.py')
    work_dir = tmp_path / 'work'
    load_tool('train.py').main([str(tmp_path / 'qbheat_tiny.py'), '--work-dir', str(work_dir),
                        '--tensorboard'])

    (events, ) = work_dir.glob('*/vis_data/events.out.tfevents.*')
    acc = EventAccumulator(str(events.parent), size_guidance={'images': 0, 'scalars': 0})
    acc.Reload()
    scalars = set(acc.Tags()['scalars'])
    assert {'loss', 'lr'} <= scalars, scalars
    metrics = {tag for tag in scalars if tag.startswith('recon/psnr_')}
    assert metrics, f'no validation metric among {sorted(scalars)}'
    assert [e.step for e in acc.Scalars('loss')] == [1, 2, 3, 4]
    assert all(e.value > 0 for e in acc.Scalars('loss'))
    assert 'recon/psnr_masked' in metrics
    assert [e.step for e in acc.Scalars('recon/psnr_masked')] == [2, 4]
    assert 'reconstruction' in acc.Tags()['images']
    pictures = acc.Images('reconstruction')
    assert [p.step for p in pictures] == [0, 2, 4]  # the untrained model, then every 2
    assert pictures[0].width > 0 and pictures[0].height > 0
    # The local backend keeps writing as before.
    assert (events.parent / 'scalars.json').is_file()
