"""configs/mobileformer: the supervised 294M recipe builds, its pipelines give 224 px
inputs, mixup + label smoothing give a finite loss, decay skips norms and biases, and a
converted reference checkpoint evaluates with tools/test.py."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from tool_loader import load_tool

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
    model.head.init_weights()  # N(0, 0.01) Linear: near-uniform scores
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)] * 2,
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


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_converted_reference_checkpoint_evaluates_with_tools_test(cfg, tmp_path):
    """ImageNet-layout val set of 2 images labelled with the model's own predictions:
    after reference -> converter -> tools/test.py, top-1 must be 100%."""
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    for value in model.state_dict().values():  # weights far from the init: clear argmax
        if value.is_floating_point():
            value.copy_(torch.rand_like(value) + 0.5 if value.dim() == 1
                        else torch.randn_like(value) * 0.1)
    (tmp_path / 'val').mkdir()
    steps = [TRANSFORMS.build(t) for t in cfg.test_pipeline]
    lines = []
    for i in range(2):
        path = tmp_path / 'val' / f'{i}.png'
        image = np.random.RandomState(i).randint(0, 256, (240, 320, 3), dtype=np.uint8)
        cv2.imwrite(str(path), image)
        results = dict(img_path=str(path))
        for step in steps:
            results = step(results)
        batch = model.data_preprocessor(dict(inputs=[results['inputs']]), False)
        with torch.no_grad():
            lines.append(f'{path.name} {model(batch["inputs"]).argmax().item()}')
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta' / 'val.txt').write_text('\n'.join(lines) + '\n')

    converter = load_tool('model_converters/mobileformer_official_to_mmpretrain.py')
    official, unmatched = converter.convert_to_official_state_dict(model.state_dict(), '294m')
    assert not unmatched
    reference = tmp_path / 'mobile-former-294m.pth'
    torch.save(official, reference)
    converted = tmp_path / 'converted.pth'
    assert converter.main([str(reference), str(converted), '--arch', '294m']) == 0
    metrics = load_tool('test.py').main([
        str(CONFIG), str(converted), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
        f'test_dataloader.dataset.data_root={tmp_path}', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'test_dataloader.batch_size=2'])
    assert metrics['accuracy/top1'] == 100.0
