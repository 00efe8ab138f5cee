"""configs/mobileformer: the supervised 294M recipe builds, its pipelines give 224 px
inputs, mixup + label smoothing give a finite loss, and decay skips norms and biases."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs' / 'mobileformer' / 'mobileformer-294m_8xb128_in1k.py'


@pytest.fixture(scope='module')
def cfg() -> Config:
    cfg = Config.fromfile(CONFIG)
    init_default_scope(cfg.default_scope)
    return cfg


def test_recipe_values(cfg):
    assert cfg.custom_imports == dict(imports=['qbheat_mm'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.train_dataloader.batch_size == 128 and cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.train_cfg.max_epochs == 450
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert (cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.optimizer.weight_decay) == (
        1e-3, 0.2)
    assert cfg.model.head.dropout == 0.3
    assert cfg.model.train_cfg.augments == dict(type='Mixup', alpha=0.2)
    steps = {t.type: t for t in cfg.train_pipeline}
    rand_augment = steps['RandAugment']
    assert (rand_augment.magnitude_level, rand_augment.magnitude_std) == (9, 0.5)
    assert rand_augment.num_policies == 2 and len(rand_augment.policies) == 15
    assert steps['RandomErasing'].erase_prob == 0.2
    assert cfg.test_dataloader.dataset.split == 'val'
    assert cfg.train_dataloader.dataset.data_root == 'data/imagenet'


@pytest.mark.parametrize('pipeline', ['train_pipeline', 'test_pipeline'])
def test_pipelines_give_224px(cfg, pipeline):
    np.random.seed(0)
    steps = [TRANSFORMS.build(t) for t in cfg[pipeline][1:]]  # all but loading the file
    for _ in range(3):
        results = dict(img=np.random.randint(0, 256, (300, 400, 3), dtype=np.uint8),
                       gt_label=1)
        for step in steps:
            results = step(results)
        assert results['inputs'].shape == (3, 224, 224)


def test_model_loss_with_mixup_and_decay_groups(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)] * 2,
             data_samples=[DataSample().set_gt_label(i) for i in (3, 7)]), training=True)
    assert data['data_samples'][0].gt_score.shape == (1000, )  # mixed soft labels
    loss = model(**data, mode='loss')['loss']
    assert torch.isfinite(loss) and loss.item() == pytest.approx(np.log(1000), rel=0.05)

    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(g['params'][0]): g['weight_decay'] for g in wrapper.optimizer.param_groups}
    assert decay[id(model.backbone.tokens)] == 0.2
    assert decay[id(model.head.fc.weight)] == 0.2
    assert decay[id(model.head.fc.bias)] == 0
    assert decay[id(model.backbone.blocks[3].former.norm1.weight)] == 0
    assert decay[id(model.backbone.stem.bn.weight)] == 0
