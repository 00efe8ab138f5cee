"""How the configs inherit: MMPretrain configs take their runtime from
``mmpretrain::_base_/default_runtime.py`` and resolve to the runtime each of them wrote out
in full before (pinned here value by value), and no config has more than one local
``_base_`` level."""
import ast
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
MMPRETRAIN_RUNTIME = 'mmpretrain::_base_/default_runtime.py'

# The runtime block every MMPretrain config used to write out (MMPretrain's own
# default_runtime.py with a fixed seed), and what each config changes in it.
COMMON = dict(
    default_scope='mmpretrain',
    default_hooks=dict(
        timer=dict(type='IterTimerHook'),
        logger=dict(type='LoggerHook', interval=100),
        param_scheduler=dict(type='ParamSchedulerHook'),
        checkpoint=dict(type='CheckpointHook', interval=1),
        sampler_seed=dict(type='DistSamplerSeedHook'),
        visualization=dict(type='VisualizationHook', enable=False)),
    env_cfg=dict(cudnn_benchmark=False,
                 mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
                 dist_cfg=dict(backend='nccl')),
    vis_backends=[dict(type='LocalVisBackend')],
    visualizer=dict(type='UniversalVisualizer', vis_backends=[dict(type='LocalVisBackend')]),
    log_level='INFO',
    load_from=None,
    resume=False,
    randomness=dict(seed=0, deterministic=False),
)
IN1K_QBHEAT = dict(checkpoint=dict(max_keep_ckpts=3), cudnn_benchmark=True,
                   randomness=dict(diff_rank_seed=True))
DEMO = dict(logger=dict(interval=20),
            checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=2),
            log_processor=dict(by_epoch=False))
RUNTIMES = {
    'qbheat_mobileformer_in1k.py': IN1K_QBHEAT,
    'qbheat/qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py': IN1K_QBHEAT,
    'qbheat/qbheat_resnet50_8xb256-coslr-300e_in1k.py': IN1K_QBHEAT,
    'qbheat/qbheat_mobileformer-294m-recursive_8xb256-coslr-300e_in1k.py': IN1K_QBHEAT,
    'qbheat_mobileformer_demo.py': DEMO,
    'qbheat/qbheat_mobileformer-294m_1xb16-800i_demo-photos.py': DEMO,
    'qbheat/qbheat_mobileformer-294m_1xb8-600i_demo-photos-256px.py': DEMO,
    'mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py': IN1K_QBHEAT,
    'mobileformer/mobileformer-294m_8xb128_in1k.py': dict(
        logger=dict(interval=200),
        checkpoint=dict(interval=10, max_keep_ckpts=3, save_best='accuracy/top1'),
        cudnn_benchmark=True, randomness=dict(seed=None)),
    'probing/linear-probe_mobileformer-294m-qbheat_8xb128-coslr-90e_in1k.py': dict(
        checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='accuracy/top1'),
        cudnn_benchmark=True),
    'probing/tran1-probe_mobileformer-294m-qbheat_1xb32-coslr-12e_demo-photos.py': dict(
        logger=dict(interval=10), checkpoint=dict(interval=12, max_keep_ckpts=1)),
}


def expected_runtime(changes: dict) -> dict:
    runtime = {k: (dict(v) if isinstance(v, dict) else v) for k, v in COMMON.items()}
    hooks = {k: dict(v) for k, v in runtime['default_hooks'].items()}
    for hook in ('logger', 'checkpoint'):
        hooks[hook].update(changes.get(hook, {}))
    runtime['default_hooks'] = hooks
    runtime['env_cfg']['cudnn_benchmark'] = changes.get('cudnn_benchmark', False)
    runtime['randomness'].update(changes.get('randomness', {}))
    if 'log_processor' in changes:
        runtime['log_processor'] = changes['log_processor']
    return runtime


def without_scope(value):
    """A resolved value without the ``_scope_`` keys MMEngine adds to what a config
    inherits from another package (the scope is the default one, mmpretrain)."""
    if isinstance(value, dict):
        return {k: without_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [without_scope(v) for v in value]
    return value


@pytest.mark.parametrize('name', sorted(RUNTIMES))
def test_runtime_is_mmpretrains_with_the_stated_changes(name):
    cfg = Config.fromfile(str(CONFIGS / name)).to_dict()
    expected = expected_runtime(RUNTIMES[name])
    assert {k: without_scope(cfg.get(k)) for k in expected} == expected
    if 'log_processor' not in expected:
        assert 'log_processor' not in cfg


def local_bases(path: Path) -> list[Path]:
    """The local files named by a config's ``_base_`` (package bases such as
    ``mmpretrain::`` are not counted)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == '_base_':
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else value
            return [(path.parent / n).resolve() for n in names if '::' not in n]
    return []


# configs/pipelines/ holds plans for tools/compare_pretrainings.py, not configs.
# configs/laptop/ scales recipes down for the laptop comparison: each is the config it
# shrinks plus a delta, so it may add one level above that config's own one.
ALL = sorted(p for p in CONFIGS.rglob('*.py')
             if 'laptop' not in p.parts and 'pipelines' not in p.parts)
LAPTOP = sorted((CONFIGS / 'laptop').glob('*.py'))


def depth(path: Path) -> int:
    return max([1 + depth(base) for base in local_bases(path)], default=0)


@pytest.mark.parametrize('path', ALL, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_at_most_one_local_base_level(path):
    for base in local_bases(path):
        assert local_bases(base) == [], f'{path.name} -> {base.name} -> {local_bases(base)}'


@pytest.mark.parametrize('path', LAPTOP, ids=lambda p: p.name)
def test_laptop_configs_add_at_most_one_level(path):
    assert depth(path) <= 2, f'{path.name} inherits {depth(path)} local levels'


@pytest.mark.parametrize('path', [p for p in ALL if 'detection' not in p.parts],
                         ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_mmpretrain_config_inherits_the_mmpretrain_runtime(path):
    """Directly, or through its one local base (MMDetection configs take MMDetection's)."""
    text = path.read_text() if not local_bases(path) else local_bases(path)[0].read_text()
    assert MMPRETRAIN_RUNTIME in text
    assert 'env_cfg = dict(\n' not in path.read_text(), 'runtime written out again'
