"""A user's own project is unaffected by the plugin: stock MMPretrain configs (a ResNet
classifier and MAE) and a stock MMDetection RetinaNet, shrunk to demo size on the CPU,
train to bit-identical losses with and without ``import qbheat_mm``.

Each run is a fresh process (the plugin cannot be un-imported): MMEngine's Runner built
from the package's own config (``mmpretrain::`` / ``mmdet::``), only data, size and
schedule overridden, 3 iterations, one thread, deterministic; the losses of every
iteration are read back from the run's ``scalars.json`` and compared exactly.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RUN = r'''
import json, sys
import torch
torch.set_num_threads(1)
if sys.argv[1] == 'with':
    import qbheat_mm  # noqa: F401
from mmengine.config import Config
from mmengine.runner import Runner
cfg = Config.fromfile(sys.argv[2])
cfg.merge_from_dict(json.loads(sys.argv[3]))
cfg.work_dir = sys.argv[4]
Runner.from_cfg(cfg).train()
'''

ITERS = 3
COMMON = {
    'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop', max_iters=ITERS),
    'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None,
    'test_cfg': None, 'test_dataloader': None, 'test_evaluator': None,
    'param_scheduler': [], 'randomness': dict(seed=0, deterministic=True),
    'default_hooks.logger.interval': 1, 'default_hooks.checkpoint': None,
    'log_processor': dict(by_epoch=False, window_size=1),
    'env_cfg.cudnn_benchmark': False,
}
LOADER = dict(batch_size=2, num_workers=0, persistent_workers=False)
TINY_VIT = dict(embed_dims=64, num_layers=2, num_heads=4, feedforward_channels=128)


def classifier(root: Path) -> tuple[str, dict]:
    return 'mmpretrain::resnet/resnet18_8xb32_in1k.py', {
        'train_dataloader': dict(LOADER, dataset=dict(
            _delete_=True, type='CustomDataset', data_root=str(root),
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='RandomResizedCrop', scale=32),
                      dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')])),
        'model.head.num_classes': 2, 'model.data_preprocessor.num_classes': 2}


def mae(root: Path) -> tuple[str, dict]:
    return 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py', {
        'optim_wrapper': dict(_delete_=True, type='OptimWrapper', optimizer=dict(
            type='AdamW', lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.05)),
        'model.backbone': dict(arch=dict(TINY_VIT, _delete_=True), img_size=32,
                               patch_size=8),
        'model.neck': dict(embed_dim=64, decoder_embed_dim=32, decoder_depth=1,
                           decoder_num_heads=4, num_patches=16, patch_size=8),
        'model.head.patch_size': 8,
        # The collate_fn inherited from the package config carries a `_scope_` key that
        # mmengine 0.10.7 passes on to the function: set it again, without one.
        'train_dataloader': dict(LOADER, collate_fn=dict(_delete_=True,
                                                         type='default_collate'), dataset=dict(
            _delete_=True, type='CustomDataset', data_root=str(root),
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='RandomResizedCrop', scale=32),
                      dict(type='PackInputs')]))}


def retinanet(root: Path) -> tuple[str, dict]:
    from qbheat_mm.det.demo_coco import DEMO_CLASSES, prepare_demo_coco
    prepare_demo_coco(root, num_train=4, num_val=1, image_size=(64, 64),
                      object_size=(16, 32))
    return 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', {
        'model.backbone.init_cfg': None,  # the stock config downloads torchvision weights
        'model.bbox_head.num_classes': len(DEMO_CLASSES),
        'train_dataloader': dict(LOADER, sampler=dict(type='DefaultSampler', shuffle=True),
                                 batch_sampler=None, dataset=dict(
            data_root=str(root), ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'), metainfo=dict(classes=DEMO_CLASSES),
            pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations',
                                                           with_bbox=True),
                      dict(type='Resize', scale=64, keep_ratio=True),
                      dict(type='RandomFlip', prob=0.5), dict(type='PackDetInputs')]))}


def losses(work_dir: Path) -> list[dict]:
    (path, ) = work_dir.glob('*/vis_data/scalars.json')
    return [{k: v for k, v in json.loads(line).items() if k.startswith('loss')}
            for line in path.read_text().splitlines()]


@pytest.mark.parametrize('stock', [classifier, mae, retinanet], ids=lambda f: f.__name__)
def test_stock_configs_train_the_same_with_the_plugin_imported(stock, tmp_path,
                                                               make_image_folder):
    data = (tmp_path / 'coco' if stock is retinanet
            else make_image_folder(tmp_path / 'images', size=40))
    package_config, options = stock(data)
    options = {**COMMON, **options}
    config = tmp_path / 'stock.py'  # the package's config, inherited unchanged
    config.write_text(f'_base_ = {package_config!r}\n')
    results = {}
    for mode in ('without', 'with'):
        work = tmp_path / mode
        proc = subprocess.run([sys.executable, '-c', RUN, mode, str(config),
                               json.dumps(options), str(work)], capture_output=True,
                              text=True, cwd=tmp_path)
        assert proc.returncode == 0, f'{mode} the plugin: {proc.stderr[-3000:]}'
        results[mode] = losses(work)
    assert len(results['without']) == ITERS and results['without'][0]
    assert len({json.dumps(r) for r in results['without']}) == ITERS  # it trains
    assert results['with'] == results['without']
