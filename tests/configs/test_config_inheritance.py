"""How the configs inherit: MMPretrain configs take their runtime from
``mmpretrain::_base_/default_runtime.py`` and resolve to the runtime each of them wrote out
in full before (pinned here value by value); how deep the local inheritance goes."""
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
    'probing/linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py': dict(
        checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='accuracy/top1'),
        cudnn_benchmark=True),
    'probing/tran1-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py': dict(
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


# configs/experiments/ holds plans for tools/run_experiment.py, not configs.
ALL = sorted(p for p in CONFIGS.rglob('*.py') if 'experiments' not in p.parts)
# Pieces (configs/_base_/{models,datasets,schedules}/) hold one part of a config (the
# model, a dataset, a budget); a config names them beside its parent.
PIECES = [p for p in ALL if '_base_' in p.parts]
RECIPES = [p for p in ALL if '_base_' not in p.parts]


def test_there_is_one_base_folder():
    """MMPretrain's layout: one configs/_base_/ holding models/, datasets/, schedules/
    (and the experiments' shared plan piece), no method folder with a _base_ of its own."""
    folders = {p.relative_to(CONFIGS).parts[:p.relative_to(CONFIGS).parts.index('_base_') + 1]
               for p in CONFIGS.rglob('*.py') if '_base_' in p.parts}
    assert folders == {('_base_', )}
    assert {p.parent.name for p in PIECES} <= {'models', 'datasets', 'schedules'}
    assert {p.parent.name for p in (CONFIGS / '_base_').rglob('*.py')} <= {
        'models', 'datasets', 'schedules', 'experiments'}


def is_piece(path: Path) -> bool:
    return '_base_' in path.relative_to(CONFIGS).parts


def depth(path: Path) -> int:
    """How many local configs lie above this one, pieces not counted."""
    return max([depth(base) + (not is_piece(base)) for base in local_bases(path)],
               default=0)


@pytest.mark.parametrize('path', PIECES, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_pieces_inherit_nothing_local(path):
    assert local_bases(path) == [], f'{path.name} -> {local_bases(path)}'


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_at_most_one_local_config_level(path):
    """STYLE.md: a recipe stands on pieces and at most one local config (a scaled-down or
    longer version of a recipe, a detector for one pre-training), never on a chain."""
    assert all(base.exists() for base in local_bases(path)), local_bases(path)
    assert depth(path) <= 1, f'{path.name} inherits {depth(path)} local levels'


LAPTOP_LEAVES = [p for p in RECIPES if 'laptop-objects' in p.name]


@pytest.mark.parametrize('path', LAPTOP_LEAVES, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_laptop_leaves_stand_on_the_laptop_data_and_delete_no_dataset(path):
    """The laptop data is a real dataset piece the laptop leaves inherit (or a pool
    override of it), not a dataset each leaf rewrites over an ImageNet one with
    ``_delete_``."""
    text = path.read_text()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        start = text.find(f'{loader} = dict(')
        if start >= 0:
            assert '_delete_' not in text[start:text.find('\n\n', start)], (path.name, loader)
    cfg = Config.fromfile(str(path))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if loader in cfg and cfg[loader]:
            assert cfg[loader]['dataset']['type'] == 'LaptopObjectsDataset', (path.name, loader)


def chain(path: Path) -> list[Path]:
    """The config and every local file it inherits, nearest first."""
    return [path] + [p for base in local_bases(path) for p in chain(base)]


@pytest.mark.parametrize('path', [p for p in RECIPES if 'detection' not in p.parts],
                         ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_mmpretrain_config_inherits_the_mmpretrain_runtime(path):
    """Directly, or through the local configs it inherits (MMDetection configs take
    MMDetection's), and none writes the runtime out again."""
    assert any(MMPRETRAIN_RUNTIME in p.read_text() for p in chain(path))
    assert all('env_cfg = dict(\n' not in p.read_text() for p in chain(path)), \
        'runtime written out again'


def test_the_qbheat_model_is_written_once():
    """The QB-Heat model dict lives in its piece; the recipe and the demo inherit it."""
    writers = [p for p in ALL if "type='QBHeat'" in p.read_text()]
    assert writers == [CONFIGS / '_base_' / 'models' / 'qbheat_mobileformer-294m.py']
    piece = Config.fromfile(str(writers[0])).model.to_dict()
    for name in ('qbheat/qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py',
                 'qbheat/qbheat_mobileformer-294m_1xb16-800i_demo-photos.py'):
        assert Config.fromfile(str(CONFIGS / name)).model.to_dict() == piece


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_training_config_names_the_atomic_checkpoint_runner(path):
    """Checkpoints that survive a kill come from the Runner the configs name
    (qbheat_mm/engine/runner.py), not from a patch of MMEngine: every config that trains
    names it, and it resolves in the config's scope as MMEngine's RUNNERS.build finds it
    (MMPretrain's and MMDetection's own tools/train.py build it so)."""
    from mmengine.registry import RUNNERS

    from qbheat_mm.engine.runner import AtomicCheckpointRunner
    cfg = Config.fromfile(str(path))
    if 'train_cfg' not in cfg:
        pytest.skip(f'{path.name} does not train')
    assert cfg.get('runner_type') == 'AtomicCheckpointRunner'
    with RUNNERS.switch_scope_and_registry(cfg.default_scope) as registry:
        assert registry.get(cfg.runner_type) is AtomicCheckpointRunner
