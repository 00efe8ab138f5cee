"""KNNMonitorHook measures what KNNClassifier (and so tools/analysis/knn_eval.py) measures,
leaves the backbone's mode as it found it, and refuses bad settings."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmpretrain.registry import MODELS
from qbheat_mm.datasets import prepare_laptop_objects
from qbheat_mm.engine.hooks import KNNMonitorHook
from tool_loader import load_tool

BACKBONE = dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, out_indices=(3, ))


def loader(root, split):
    return dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='LaptopObjectsDataset', data_root=str(root), img_size=64,
                             num_train=3, num_val=1, split=split,
                             pipeline=[dict(type='LoadImageFromFile'),
                                       dict(type='PackInputs')]))


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp('knn') / 'laptop'
    return prepare_laptop_objects(str(root), img_size=64, num_train=3, num_val=1)


def test_monitor_agrees_with_the_knn_classifier(root):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    backbone = MODELS.build(BACKBONE)
    backbone.train()
    hook = KNNMonitorHook(bank=loader(root, 'train'), query=loader(root, 'val'),
                          num_classes=16, k=5)
    monitored = hook.measure(backbone)
    assert backbone.training  # restored after the eval-mode check
    assert 0 <= monitored <= 100

    classifier = MODELS.build(dict(
        type='KNNClassifier', backbone=BACKBONE, bank=loader(root, 'train'), num_classes=16,
        k=5, data_preprocessor=dict(type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                    std=[58.395, 57.12, 57.375], to_rgb=True)))
    classifier.init_weights()
    classifier.backbone.load_state_dict(backbone.state_dict())
    classifier.eval()
    correct = total = 0
    for batch in Runner.build_dataloader(loader(root, 'val')):
        data = classifier.data_preprocessor(batch, False)
        for sample in classifier(**data, mode='predict'):
            correct += int(sample.pred_label == sample.gt_label)
            total += 1
    assert total == 16
    assert monitored == pytest.approx(100 * correct / total)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match='interval, k and num_classes'):
        KNNMonitorHook(bank={}, query={}, num_classes=16, interval=0)


def test_knn_eval_refuses_a_config_that_is_not_knn(tmp_path):
    tool = load_tool('analysis/knn_eval.py')
    config = 'configs/probing/linear-probe_mobileformer-294m_1xb32-coslr-5e_laptop-objects.py'
    with pytest.raises(ValueError, match='not a k-NN config'):
        tool.main([config, '--random', '--work-dir', str(tmp_path)])
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        tool.main(['configs/knn/knn_mobileformer-294m_laptop-objects.py', '--checkpoint',
                   str(tmp_path / 'nope.pth'), '--work-dir', str(tmp_path)])


def test_a_model_without_backbone_is_named():
    from types import SimpleNamespace
    hook = KNNMonitorHook(bank={}, query={}, num_classes=16)
    runner = SimpleNamespace(model=torch.nn.Linear(2, 2))
    with pytest.raises(AttributeError, match='needs a model with a backbone; Linear has none'):
        hook._check(runner, 0)


def fake_runner(max_iters: int, batch_size: int, logged: list):
    """Just what KNNMonitorHook reads of a Runner, for an iteration-based run."""
    from types import SimpleNamespace

    from mmengine.runner import IterBasedTrainLoop
    model = torch.nn.Module()
    model.backbone = torch.nn.Linear(2, 2)
    return SimpleNamespace(
        model=model, max_iters=max_iters, max_epochs=None, iter=0,
        train_loop=object.__new__(IterBasedTrainLoop),
        train_dataloader=SimpleNamespace(batch_size=batch_size),
        logger=SimpleNamespace(info=lambda message: None),
        message_hub=SimpleNamespace(update_info=lambda key, value: None),
        visualizer=SimpleNamespace(
            add_scalars=lambda values, step: logged.append(dict(values, step=step))))


def test_num_checks_spreads_the_checks_and_logs_images_and_minutes(monkeypatch):
    import time as time_module
    clock = [1000.]
    monkeypatch.setattr(time_module, 'time', lambda: clock[0])

    def measure(self, backbone):
        clock[0] += 30.  # every check costs 30 s, which the training minutes leave out
        return 50.

    monkeypatch.setattr(KNNMonitorHook, 'measure', measure)
    hook = KNNMonitorHook(bank={}, query={}, num_classes=16, num_checks=4, interval=999)
    logged = []
    runner = fake_runner(max_iters=10, batch_size=16, logged=logged)
    hook.before_train(runner)
    assert hook.interval == 2  # 10 iterations // 4 checks
    for it in range(10):
        clock[0] += 6.  # 6 s of training per iteration
        runner.iter = it  # what the Runner reports during iteration it
        hook.after_train_iter(runner, it)
    steps = [r['step'] for r in logged]
    assert steps == [0, 2, 4, 6, 8, 10]
    assert [r['knn/images_seen'] for r in logged] == [0, 32, 64, 96, 128, 160]
    # 6 s per iteration of training; the checks' 30 s each are not counted.
    assert [r['knn/train_minutes'] for r in logged] == pytest.approx(
        [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert all(r['knn/top1'] == 50. and r['knn/seconds'] == 30. for r in logged)


def test_num_checks_must_be_positive():
    with pytest.raises(ValueError, match='num_checks must be >= 1'):
        KNNMonitorHook(bank={}, query={}, num_classes=16, num_checks=0)
