"""The QB-Heat and MoCo-v2 configs: they build, their parts fit, the ablations change only
what they name, and the recipe numbers are the documented ones."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
TWIN = CONFIGS / 'qbheat' / 'qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'
ABLATIONS = {  # name -> (part of the model, the settings it changes there)
    'recursive': ('neck', dict(mode='recursive')),
    'finola': ('neck', dict(mode='finola')),
    'rawpix': ('head', dict(norm_pix=False)),
    'lossall': ('head', dict(loss_region='all')),
    'globaldec': ('decoder', dict(scope='global')),
    'frozenop': ('neck', dict(freeze_operator=True)),
    'lightdec': ('decoder', dict(depth=2, embed_dims=192)),
}
BACKBONES = {  # config name part -> channels of the stride-32 map
    'resnet50': 2048,
    'mobilenetv3-large': 960,
    'convnext-tiny': 768,
}


def load(path: Path) -> Config:
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports == dict(imports=['qbheat_mm'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmpretrain'
    return cfg


def build(cfg: Config):
    init_default_scope('mmpretrain')
    return MODELS.build(copy.deepcopy(cfg.model))


def test_entry_point_is_the_twin():
    assert load(CONFIGS / 'qbheat_mobileformer_in1k.py').to_dict() | {'filename': None} \
        == load(TWIN).to_dict() | {'filename': None}


def test_recipe_numbers():
    cfg = load(TWIN)
    assert cfg.train_dataloader.batch_size * 8 == 2048
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.betas, opt.weight_decay) == ('AdamW', 1.5e-4 * 2048 / 256,
                                                                (0.9, 0.95), 0.05)
    assert opt.fused  # the one-kernel AdamW (tests/benchmark/test_steps.py)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.end, cosine.begin, cosine.end, cfg.train_cfg.max_epochs) == (20, 20, 300, 300)
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert (crop.scale, crop.crop_ratio_range, crop.interpolation) == (256, (0.2, 1.0), 'bicubic')
    assert cfg.val_evaluator.type == 'ReconstructionMetric'
    assert cfg.val_dataloader.dataset.split == 'val'


def test_twin_builds_mobileformer_with_matching_parts():
    model = build(load(TWIN))
    assert type(model.backbone).__name__ == 'MobileFormer'
    assert model.neck.in_channels == model.decoder.in_channels == 1152
    assert (model.neck.mode, model.head.norm_pix, model.head.loss_region) == ('block', True,
                                                                               'masked')
    assert model.decoder.scope == 'quarter' and not model.neck.freeze_operator
    model.eval()
    # 32 x 32 x 3 pixels and the predicted mean and log-std of every cell
    assert model.predict_cells(torch.zeros(1, 3, 128, 128)).shape == (1, 16, 32 * 32 * 3 + 2)


def test_demo_pretrains_the_entry_points_model():
    demo = load(CONFIGS / 'qbheat_mobileformer_demo.py').model.to_dict()
    full = load(TWIN).model.to_dict()
    assert demo == full, 'the demo must pre-train the ImageNet entry point\'s model'


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_changes_only_what_it_names(name):
    part, settings = ABLATIONS[name]
    cfg = load(CONFIGS / 'qbheat' / f'qbheat_mobileformer-294m-{name}_8xb256-coslr-300e_in1k.py')
    expected = load(TWIN).to_dict()
    expected['model'][part].update(settings)
    assert cfg.to_dict() | {'filename': None} == expected | {'filename': None}


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_other_backbones_build(name):
    cfg = load(CONFIGS / 'qbheat' / f'qbheat_{name}_8xb256-coslr-300e_in1k.py')
    model = build(cfg)  # the build-time check dry-runs the backbone for its channels
    assert model.neck.in_channels == model.decoder.in_channels == BACKBONES[name]
    assert cfg.model.backbone.type in ('ResNet', 'MobileNetV3', 'ConvNeXt')


@pytest.mark.parametrize('config', [
    *[f'qbheat_mobileformer-294m-{name}_8xb256-coslr-300e_in1k.py' for name in ABLATIONS],
    *[f'qbheat_{name}_8xb256-coslr-300e_in1k.py' for name in BACKBONES]])
def test_every_qbheat_config_takes_a_training_step(config):
    cfg = load(CONFIGS / 'qbheat' / config)
    torch.manual_seed(0)
    model = build(cfg)
    model.init_weights()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = model(torch.randn(2, 3, 128, 128), mode='loss')
    loss = sum(losses.values())
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    optim.step()
    frozen = cfg.model.neck.get('freeze_operator', False)
    assert (model.neck.A.abs().sum() == 0) == frozen  # the operator learns unless frozen
    # ['scope'], not .scope: ConfigDict has an attribute of that name
    assert model.decoder.scope == cfg.model.decoder['scope']


def test_mocov2_baseline_builds_and_steps():
    cfg = load(CONFIGS / 'mocov2' / 'mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py')
    assert (cfg.model.type, cfg.model.neck.in_channels, cfg.model.head.temperature) == (
        'MoCo', 1152, 0.2)
    assert (cfg.optim_wrapper.optimizer.lr, cfg.train_cfg.max_epochs) == (0.03, 200)
    cfg.model.queue_len = 8  # a multiple of the batch of 2 below
    model = build(cfg)
    views = [torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)]
    loss = model(views, mode='loss')['loss']
    assert torch.isfinite(loss) and loss > 0
