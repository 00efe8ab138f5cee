"""The downstream configs on 2 CPU processes through tools/dist_train.sh and
tools/dist_test.sh, on the checkpoint of the 2-process QB-Heat run: the demo linear probe
and the frozen RetinaNet on demo COCO. Both ranks end identical, the frozen backbone stays
as loaded, a resumed run reproduces the uninterrupted one, and a 2-process test gives the
same accuracy as a 1-process one."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import mmengine
import pytest
import torch
from mmengine.config import Config

from dist_helpers import (BATCH, NPROC, REPO, TOOLS, TRAIN_IMAGES, assert_ranks_identical,
                          assert_resume_reproduces, checkpoint_state, demo_photo_loader,
                          dist_train, output, rank_states, run, short_schedule,
                          write_config)

pytestmark = pytest.mark.dist

PROBE_CONFIG = (REPO / 'configs' / 'probing' /
                'linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py')
RETINANET_CONFIG = (REPO / 'configs' / 'detection' /
                    'retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py')
TINY_COCO = dict(num_train=TRAIN_IMAGES, num_val=4, image_size=(64, 80),
                 object_size=(20, 48), seed=1)


@pytest.fixture(scope='module')
def pretrained(qbheat_runs) -> Path:
    """The final checkpoint of the 2-process QB-Heat run."""
    return qbheat_runs['full'] / 'epoch_2.pth'


def assert_backbone_as_loaded(state: dict, checkpoint: Path) -> None:
    """Every backbone tensor (weights, BN statistics, bridge flag) equals the checkpoint's."""
    source = {k: v for k, v in checkpoint_state(checkpoint).items()
              if k.startswith('backbone.')}
    backbone = {k: v for k, v in state['state'].items() if k.startswith('backbone.')}
    assert set(backbone) == set(source)
    changed = [k for k in source if not torch.equal(source[k], backbone[k])]
    assert not changed, changed[:5]
    assert not any(k.startswith('backbone.') for k in state['trainable'])


def two_runs(config: Path, root: Path) -> tuple[Path, Path, str]:
    full, resumed = root / 'full', root / 'resumed'
    out = dist_train(config, full)
    dist_train(config, resumed, '--resume', str(full / 'epoch_1.pth'))
    return full, resumed, out


# ---- linear probe ----------------------------------------------------------------------

@pytest.fixture(scope='module')
def probe_runs(tmp_path_factory, demo_photos, pretrained) -> dict:
    root = tmp_path_factory.mktemp('probe_dist')
    cfg = Config.fromfile(PROBE_CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = str(pretrained)
    cfg.train_dataloader = demo_photo_loader(cfg.train_dataloader, demo_photos, 'train', 64)
    cfg.val_dataloader = demo_photo_loader(cfg.val_dataloader, demo_photos, 'val', 64)
    cfg.test_dataloader = cfg.val_dataloader
    short_schedule(cfg)
    config = write_config(cfg, root / 'linear_probe_dist.py')
    full, resumed, out = two_runs(config, root)
    return dict(config=config, full=full, resumed=resumed, out=out, root=root)


def test_linear_probe_trains_with_ddp_on_cpu(probe_runs, pretrained):
    assert 'StrictPretrained: loaded 608/608 backbone keys' in probe_runs['out']
    states = rank_states(probe_runs['full'])
    assert all(s['world_size'] == NPROC and s['backend'] == 'gloo' for s in states)
    assert states[0]['trainable'] == ['head.fc.weight', 'head.fc.bias']
    assert_ranks_identical(states, states[0]['params'])
    assert_backbone_as_loaded(states[0], pretrained)


def test_linear_probe_resume_reproduces_the_uninterrupted_run(probe_runs):
    full, resumed = rank_states(probe_runs['full']), rank_states(probe_runs['resumed'])
    assert_resume_reproduces(full[0], resumed[0])
    assert_ranks_identical([full[1], resumed[1]], full[1]['params'])


def accuracy(output: str) -> float:
    found = re.findall(r'accuracy/top1: ([\d.]+)', output)
    assert found, output[-3000:]
    return float(found[-1])


def test_dist_test_matches_a_single_process_test(probe_runs):
    """tools/dist_test.sh on 2 processes gathers the predictions of both ranks back into
    dataset order: the same scores, labels and accuracy as tools/test.py alone."""
    checkpoint, root = probe_runs['full'] / 'epoch_2.pth', probe_runs['root']
    two = output(run(['bash', TOOLS / 'dist_test.sh', probe_runs['config'], checkpoint,
                      NPROC, '--work-dir', root / 'test2', '--out', root / 'two.pkl']))
    one = output(run([sys.executable, TOOLS / 'test.py', probe_runs['config'], checkpoint,
                      '--work-dir', root / 'test1', '--out', root / 'one.pkl']))
    assert "instead of 'nccl'" in two
    assert accuracy(two) == accuracy(one)
    two_preds, one_preds = (mmengine.load(root / f'{n}.pkl') for n in ('two', 'one'))
    assert len(two_preds) == len(one_preds) == 8  # the 8 val crops, none twice
    for a, b in zip(two_preds, one_preds):
        assert a['img_path'] == b['img_path'] and a['gt_label'] == b['gt_label']
        torch.testing.assert_close(a['pred_score'], b['pred_score'], atol=1e-6, rtol=1e-5)


# ---- frozen RetinaNet on demo COCO -----------------------------------------------------

@pytest.fixture(scope='module')
def retinanet_runs(tmp_path_factory, pretrained) -> dict:
    from qbheat_mm.det.demo_coco import prepare_demo_coco

    root = tmp_path_factory.mktemp('retinanet_dist')
    coco = prepare_demo_coco(root / 'demo_coco', **TINY_COCO)  # once, before the ranks
    cfg = Config.fromfile(RETINANET_CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = str(pretrained)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=BATCH, num_workers=1, persistent_workers=False)
        loader.dataset.update(data_root=str(coco), demo_settings=TINY_COCO)
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (80, 80)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = str(coco / 'annotations' / 'instances_val.json')
    short_schedule(cfg)
    config = write_config(cfg, root / 'retinanet_dist.py')
    full, resumed, out = two_runs(config, root)
    return dict(full=full, resumed=resumed, out=out)


def test_frozen_retinanet_trains_with_ddp_on_cpu(retinanet_runs, pretrained):
    states = rank_states(retinanet_runs['full'])
    assert all(s['world_size'] == NPROC and s['backend'] == 'gloo' for s in states)
    assert states[0]['trainable'] and all(
        k.startswith(('neck.', 'bbox_head.')) for k in states[0]['trainable'])
    # Frozen backbone with norm_eval and no BN elsewhere: the whole state is identical.
    assert_ranks_identical(states, states[0]['state'])
    assert_backbone_as_loaded(states[0], pretrained)
    # COCOeval ran on the predictions gathered from both ranks.
    assert re.search(r'coco/bbox_mAP: [\d.]+', retinanet_runs['out'])


def test_frozen_retinanet_resume_reproduces_the_uninterrupted_run(retinanet_runs):
    full = rank_states(retinanet_runs['full'])
    resumed = rank_states(retinanet_runs['resumed'])
    assert_resume_reproduces(full[0], resumed[0])
    assert_resume_reproduces(full[1], resumed[1])
