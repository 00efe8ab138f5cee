"""The model index: MMPretrain's reader loads it, names are unique, every config exists
and builds with the parameter count the metafile states; once qbheat_mm is imported,
MMPretrain's own list_models / get_model / init_model / FeatureExtractor and its
tools/train.py (what ``mim train mmpretrain`` runs) work on our models."""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmpretrain
from qbheat_mm.apis import MODEL_INDEX
from qbheat_mm.apis import init_model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def index_models() -> list:
    from modelindex.load_model_index import load
    index = load(str(MODEL_INDEX))
    index.build_models_with_collections()
    return index.models


def test_index_loads_with_mmpretrain_reader_and_names_are_unique(index_models):
    names = [m.name for m in index_models]
    assert len(names) == len(set(names)) == 26
    assert all(name == name.lower() for name in names)
    collections = {m.in_collection for m in index_models}
    assert collections == {'QB-Heat', 'MoCo-v2 (baseline)', 'Mobile-Former',
                           'Probes (linear, tran-1)', 'Frozen-backbone detection'}
    assert not any(m.weights for m in index_models), 'no checkpoint is published'
    assert all((REPO / m.config).is_file() for m in index_models)


def test_results_only_where_measured_and_labelled_laptop_scale(index_models):
    measured = {m.name: m.results for m in index_models if m.results}
    assert set(measured) == {
        'linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos',
        'retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco'}
    for results in measured.values():
        assert all('laptop scale' in r.dataset for r in results)
    probe = measured['linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos']
    assert probe[0].task == 'Image Classification'
    assert probe[0].metrics['Top 1 Accuracy'] == 95.7


def test_downstream_links_name_models_of_the_index(index_models):
    names = {m.name for m in index_models}
    linked = {d for m in index_models for d in (m.data.get('Downstream') or [])}
    assert linked <= names, linked - names
    main = next(m for m in index_models
                if m.name == 'qbheat_mobileformer-294m_8xb256-coslr-300e_in1k')
    assert set(main.data['Downstream']) == {
        'linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k',
        'tran1-probe_mobileformer-294m_8xb128-coslr-90e_in1k',
        'retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco',
        'detr_mobileformer-294m-qbheat-frozen_8xb2-150e_coco'}


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
def test_every_config_builds_with_the_stated_parameter_count(index_models):
    from mmengine.registry import DefaultScope
    try:
        for m in index_models:
            model = init_model(str(REPO / m.config))
            count = sum(p.numel() for p in model.parameters())
            assert count == m.metadata.parameters, (m.name, count)
    finally:
        # Detection configs switch the default scope to mmdet; MMPretrain's inferencers
        # build their pipelines in the current scope.
        DefaultScope.get_instance('qbheat_test_scope', scope_name='mmpretrain')


def test_list_and_get_model_through_mmpretrain():
    qbheat = mmpretrain.list_models('*qbheat*')
    assert 'qbheat_mobileformer-294m_8xb256-coslr-300e_in1k' in qbheat
    assert 'linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k' in mmpretrain.list_models(
        '*probe_mobileformer*')  # the probes take any pre-training: no 'qbheat' in the name
    assert 'mocov2_mobileformer-294m_8xb32-coslr-200e_in1k' in mmpretrain.list_models(
        'mocov2_mobileformer*')
    assert 'resnet50_8xb32_in1k' in mmpretrain.list_models('resnet50_8xb32*')  # theirs too
    model = mmpretrain.get_model('qbheat_mobileformer-294m_8xb256-coslr-300e_in1k')
    assert type(model).__name__ == 'QBHeat'
    assert type(model.backbone).__name__ == 'MobileFormer'
    probe = mmpretrain.get_model(
        'linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos')
    assert type(probe).__name__ == 'ImageClassifier'


def test_init_model_loads_a_checkpoint_safely(tmp_path):
    config = REPO / 'configs' / 'mobileformer' / 'mobileformer-294m_8xb128_in1k.py'
    reference = mmpretrain.get_model(str(config))
    path = tmp_path / 'classifier.pth'
    torch.save(dict(meta=dict(epoch=1, seed=np.int64(0)), state_dict=reference.state_dict()),
               path)
    model = mmpretrain.init_model(str(config), str(path), device='cpu')
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in reference.state_dict().items())


def test_feature_extractor_returns_the_multi_scale_maps():
    cfg = Config.fromfile(REPO / 'configs' / 'mobileformer' / 'mobileformer-294m_8xb128_in1k.py')
    cfg.model.backbone.out_indices = (0, 1, 2, 3, 4)
    extractor = mmpretrain.FeatureExtractor(cfg, device='cpu')
    image = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    (features, ) = extractor(image, stage='backbone')
    # Strides 4, 8, 16, 32, the expanded stride-32 map, then the 6 global tokens
    # (the config sets with_tokens=True).
    assert [tuple(f.shape) for f in features] == [
        (24, 56, 56), (48, 28, 28), (128, 14, 14), (192, 7, 7), (1152, 7, 7), (6, 192)]


@pytest.mark.slow
def test_mmpretrain_train_tool_runs_our_config(tmp_path, monkeypatch):
    """``mim train mmpretrain CONFIG`` runs this script: MMPretrain's own tools/train.py.
    It builds the config's ``runner_type``: checkpoints are written atomically."""
    from mmengine.fileio import LocalBackend
    written, put = [], LocalBackend.put
    monkeypatch.setattr(LocalBackend, 'put',
                        lambda backend, obj, path: written.append(Path(path).name) or put(
                            backend, obj, path))
    cfg = Config.fromfile(REPO / 'tests' / 'data' / 'configs' / 'qbheat_tiny.py')
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(tmp_path / 'photos')
    cfg.train_cfg.max_iters = 2
    cfg.visualizer = dict(type='UniversalVisualizer', name=f'vis_{tmp_path.name}')
    cfg.dump(tmp_path / 'qbheat_tiny.py')
    train = Path(mmpretrain.__file__).parent / '.mim' / 'tools' / 'train.py'
    monkeypatch.setattr(sys, 'argv', [str(train), str(tmp_path / 'qbheat_tiny.py'),
                                      '--work-dir', str(tmp_path / 'work'),
                                      '--no-persistent-workers'])
    runpy.run_path(str(train), run_name='__main__')
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
    assert 'iter_2.pth.partial' in written
