"""The probing configs: ImageNet recipes, a missing checkpoint is an error (never a random
backbone), the random control is explicit, and probe training leaves the backbone untouched."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import qbheat_mm  # noqa: F401  (registration)
from qbheat_mm.datasets.demo_photos import PHOTOS
from qbheat_mm.utils.checkpoint import CheckpointMismatchError

REPO = Path(__file__).resolve().parents[2]
PROBING = REPO / 'configs' / 'probing'
IN1K = {
    'linear': PROBING / 'linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py',
    'tran1': PROBING / 'tran1-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py',
}
DEMO = {
    'linear': PROBING / 'linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py',
    'tran1': PROBING / 'tran1-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py',
}
ALL = [*IN1K.values(), *DEMO.values()]
# Mobile-Former-26M: expanded map of 6 x 96 = 576 channels, 3 tokens of 128.
TINY_CHANNELS = 576


def base_of(path: Path) -> str | list | None:
    """The ``_base_`` a config file assigns, read without executing it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            return ast.literal_eval(node.value)
    return None


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_import_qbheat_mm_registers_strict_pretrained():
    """Configs only import qbheat_mm, so that import alone must register the initialiser."""
    code = ('import qbheat_mm; from mmengine.registry import WEIGHT_INITIALIZERS; '
            "print('StrictPretrained' in WEIGHT_INITIALIZERS.module_dict)")
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == 'True'


@pytest.mark.parametrize('path', ALL, ids=lambda p: p.stem)
def test_common_probe_settings(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports == dict(imports=['qbheat_mm'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.arch, backbone.out_indices) == ('MobileFormer', '294m',
                                                                   (4, ))
    assert backbone.frozen_stages == 5 and backbone.norm_eval is True
    assert backbone.init_cfg == dict(type='StrictPretrained', checkpoint=None, prefix='auto')
    # pieces only: the frozen backbone, the probe's data and MMPretrain's runtime; the
    # config writes its head, optimiser and loops
    frozen, data, *loops, runtime = base_of(path)
    frozen, data = path.parent / frozen, path.parent / data
    assert frozen.name == 'mobileformer-294m_frozen.py' and frozen.parent.name == 'models'
    assert data.is_file() and data.parent.name == 'datasets' and not base_of(data)
    assert all((path.parent / p).parent.name == 'schedules' for p in loops)
    assert runtime == 'mmpretrain::_base_/default_runtime.py'


def test_in1k_linear_recipe():
    cfg = Config.fromfile(IN1K['linear'])
    assert cfg.train_dataloader.batch_size * 8 == 1024
    assert cfg.optim_wrapper.optimizer == dict(type='LARS', lr=0.1 * 1024 / 256,
                                               weight_decay=0.0, momentum=0.9)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end, cosine.type, cosine.begin, cosine.end) == (
        'LinearLR', 10, 'CosineAnnealingLR', 10, 90)
    assert cfg.train_cfg.max_epochs == 90
    assert [n.type for n in cfg.model.neck] == ['GlobalAveragePooling', 'ClsBatchNormNeck']
    assert cfg.model.neck[1].affine is False
    assert (cfg.model.head.type, cfg.model.head.in_channels) == ('LinearClsHead', 1152)
    assert cfg.train_pipeline[1] == dict(type='RandomResizedCrop', scale=224,
                                         backend='pillow')


def test_in1k_tran1_recipe():
    cfg = Config.fromfile(IN1K['tran1'])
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.train_cfg.max_epochs == 90 and cfg.param_scheduler[-1].end == 90
    head = cfg.model.head
    assert (head.type, head.in_channels, head.embed_dims, head.depth, head.num_heads,
            head.mlp_ratio, head.num_classes) == ('TransformerProbeHead', 1152, 512, 1, 8,
                                                  4, 1000)
    assert head.norm_input is False  # the paper's head


@pytest.mark.parametrize('path', DEMO.values(), ids=lambda p: p.stem)
def test_demo_probe_matches_the_demo_pretraining(path):
    cfg = Config.fromfile(path)
    pretrain = Config.fromfile(REPO / 'configs' / 'qbheat_mobileformer_demo.py')
    crop = [t for t in cfg.train_pipeline if t.type == 'RandomResizedCrop'][0]
    pretrain_crop = [t for t in pretrain.train_pipeline if t.type == 'RandomResizedCrop'][0]
    assert crop.scale == pretrain_crop.scale == 128
    assert pretrain.model.backbone.arch == cfg.model.backbone.arch
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader, 'val')):
        assert (loader.dataset.type, loader.dataset.split) == ('DemoPhotoDataset', split)
        assert loader.dataset.img_size == 128
    assert cfg.val_evaluator == dict(type='Accuracy', topk=(1, ))
    assert cfg.model.head.num_classes == len(PHOTOS) == 8


def tiny_model_cfg(path: Path, checkpoint: str | None) -> Config:
    """The config's model with Mobile-Former-26M in place of 294M."""
    cfg = Config.fromfile(path)
    cfg.model.backbone.arch = '26m'
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    if cfg.model.neck is not None:
        cfg.model.neck[1].input_features = TINY_CHANNELS
    cfg.model.head.in_channels = TINY_CHANNELS
    if cfg.model.head.type == 'TransformerProbeHead':
        cfg.model.head.update(embed_dims=32, num_heads=4)
    return cfg


@pytest.fixture(scope='module')
def pretrained_26m(tmp_path_factory) -> tuple[dict, str]:
    """A QB-Heat-like full checkpoint of Mobile-Former-26M with non-default BN statistics."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        backbone = MODELS.build(dict(type='MobileFormer', arch='26m'))
    backbone.init_weights()
    with torch.no_grad():  # no parameter keeps its initial value
        for param in backbone.parameters():
            param.add_(0.01 * torch.randn_like(param))
    backbone.train()(torch.randn(4, 3, 64, 64))  # move the BN running statistics
    holder = nn.Module()
    holder.backbone, holder.neck = backbone, nn.Linear(2, 2)
    path = tmp_path_factory.mktemp('ckpt') / 'iter_800.pth'
    torch.save({'meta': {'iter': 800}, 'state_dict': holder.state_dict()}, path)
    return {k: v.clone() for k, v in backbone.state_dict().items()}, str(path)


def build(cfg: Config) -> nn.Module:
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        model.init_weights()
    return model


@pytest.mark.parametrize('path', ALL, ids=lambda p: p.stem)
def test_missing_checkpoint_is_an_error_not_a_random_backbone(path):
    with pytest.raises(ValueError, match=r'--cfg-options model\.backbone\.init_cfg\.'
                                         r'checkpoint=PATH'):
        build(tiny_model_cfg(path, checkpoint=None))


def test_checkpoint_of_another_arch_fails_with_key_lists(pretrained_26m):
    _, ckpt = pretrained_26m
    cfg = tiny_model_cfg(DEMO['linear'], ckpt)
    cfg.model.backbone.arch = '52m'  # same keys, ungrouped 1x1 convs: other shapes
    with pytest.raises(CheckpointMismatchError, match=r'shape mismatch \(\d+\): '):
        build(cfg)


def test_random_init_control_is_explicit(pretrained_26m):
    expected, _ = pretrained_26m
    cfg = tiny_model_cfg(DEMO['linear'], None)
    cfg.merge_from_dict({'model.backbone.init_cfg': None})  # what --cfg-options does
    backbone = build(cfg).backbone
    assert not any(torch.equal(p, expected[k]) for k, p in backbone.named_parameters())


@pytest.mark.parametrize('path', ALL, ids=lambda p: p.stem)
def test_probe_training_leaves_the_backbone_untouched(path, pretrained_26m):
    expected, ckpt = pretrained_26m
    cfg = tiny_model_cfg(path, ckpt)
    model = build(cfg)
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, expected[key]), f'{key} not loaded from the checkpoint'
    assert not any(p.requires_grad for p in model.backbone.parameters())

    head_before = {k: v.clone() for k, v in model.head.state_dict().items()}
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    torch.manual_seed(0)
    data = dict(inputs=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
                        for _ in range(4)],
                data_samples=[DataSample().set_gt_label(i % 8) for i in range(4)])
    for _ in range(2):
        model.train()  # what the Runner does every epoch
        losses = model.train_step(data, optim_wrapper)
    assert torch.isfinite(losses['loss'])

    for key, value in model.backbone.state_dict().items():  # params and BN statistics
        assert torch.equal(value, expected[key]), f'{key} changed during probe training'
    assert not torch.equal(model.head.fc.weight, head_before['fc.weight'])
    if cfg.model.neck is not None:  # the probe's own BatchNorm does train
        assert model.neck[1].bn.num_batches_tracked.item() == 2
