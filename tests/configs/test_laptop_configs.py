"""The laptop comparison's configs: every pre-training sees the same images the same
number of times, on the same Mobile-Former-294M, and is monitored by the same k-NN check;
the evaluations read the laptop objects or the demo COCO set with a required checkpoint."""
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
LAPTOP_BUDGET = REPO / 'configs' / '_base_' / 'schedules' / 'laptop-objects_budget.py'
PLAN = Config.fromfile(REPO / 'configs' / 'experiments' / 'laptop.py')
PRETRAININGS = sorted({p['config'] for p in PLAN.pretrainings if p['config']})


def _dataset(loader: dict) -> dict:
    return loader['dataset']


@pytest.mark.parametrize('config', PRETRAININGS)
def test_pretrainings_share_data_budget_backbone_and_monitor(config):
    cfg = Config.fromfile(REPO / config)
    reference = Config.fromfile(LAPTOP_BUDGET)
    assert _dataset(cfg.train_dataloader)['type'] == 'LaptopObjectsDataset'
    assert _dataset(cfg.train_dataloader)['split'] == 'train'
    assert set(_dataset(cfg.train_dataloader)) == {'type', 'split', 'pipeline'}  # defaults
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == reference.laptop_pretrain_iters
    assert cfg.default_hooks.checkpoint.interval == reference.laptop_pretrain_iters
    # The cosine has no end of its own: MMEngine ends it at train_cfg.max_iters, so a
    # longer run (--cfg-options train_cfg.max_iters=N, a budgeted plan) decays over all N.
    assert cfg.param_scheduler[-1]['type'] == 'CosineAnnealingLR'
    assert not {'end', 'T_max'} & set(cfg.param_scheduler[-1])
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.arch) == ('MobileFormer', '294m')
    monitors = [h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook']
    assert monitors == [reference.laptop_knn_monitor]


def test_the_frozen_operator_row_is_the_qbheat_config_with_one_override():
    rows = {p['name']: p for p in PLAN.pretrainings}
    assert rows['qbheat_frozen_op']['config'] == rows['qbheat']['config']
    assert rows['qbheat_frozen_op']['cfg_options'] == ['model.neck.freeze_operator=True']
    assert rows['random']['config'] is None


@pytest.mark.parametrize('evaluation', PLAN.evaluations, ids=lambda e: e['name'])
def test_evaluations_need_a_checkpoint_and_score_the_plan_metric(evaluation):
    cfg = Config.fromfile(REPO / evaluation['config'])
    backbone = cfg.model.backbone
    assert backbone.type.endswith('MobileFormer') and backbone.arch == '294m'
    assert backbone.frozen_stages == 5 and backbone.norm_eval
    assert backbone.init_cfg == dict(type='StrictPretrained', checkpoint=None, prefix='auto')
    if evaluation['metric'].startswith('coco/'):
        assert _dataset(cfg.val_dataloader)['type'] == 'DemoCocoDataset'
        assert cfg.val_evaluator.type == 'CocoMetric'
    else:
        loader = (cfg.test_dataloader if evaluation.get('kind') == 'knn'
                  else cfg.val_dataloader)
        assert _dataset(loader) == dict(
            type='LaptopObjectsDataset', split='val',
            pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])
        assert cfg.model.data_preprocessor.num_classes == 16


def test_the_decoder_plan_changes_only_the_decoder_of_the_qbheat_row():
    """configs/experiments/laptop_decoder.py: the laptop plan's evaluations, launcher and
    seeds; its rows are the laptop QB-Heat config with decoder overrides only, and each
    builds a decoder of that depth and width."""
    import copy

    import qbheat_mm  # noqa: F401  (registration)
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from tool_loader import load_tool

    train_tool = load_tool('train.py')

    decoder_plan = Config.fromfile(REPO / 'configs' / 'experiments' / 'laptop_decoder.py')
    for key in ('evaluations', 'launcher', 'seeds'):
        assert decoder_plan[key] == PLAN[key], key
    qbheat = {p['name']: p for p in PLAN.pretrainings}['qbheat']['config']
    init_default_scope('mmpretrain')
    sizes = {}
    for row in decoder_plan.pretrainings:
        assert row['config'] == qbheat
        options = row.get('cfg_options', [])
        assert all(o.startswith('model.decoder.') for o in options), options
        cfg = Config.fromfile(REPO / qbheat)
        if options:  # parsed by tools/train.py, which the pipeline hands them to
            cfg.merge_from_dict(train_tool.parse_args(
                [str(REPO / qbheat), '--cfg-options', *options]).cfg_options)
        decoder = MODELS.build(copy.deepcopy(cfg.model)).decoder
        sizes[row['name']] = (len(decoder.blocks), decoder.embed_dims)
    assert sizes == dict(qbheat=(4, 256), qbheat_dec2x192=(2, 192), qbheat_dec4x128=(4, 128))
