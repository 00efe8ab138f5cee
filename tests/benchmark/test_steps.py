"""The training steps the benchmarks time (qbheat_mm/benchmark/steps.py): every peer is
built from its own config, and every speed option computes what the plain step computes
(same loss, same gradients)."""
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from qbheat_mm.benchmark import OPTIMIZER_IMPLS, build_peer, peer_step


def _losses_after_steps(tiny_qbheat, step_options: dict, steps: int = 2) -> tuple:
    """The losses of ``steps`` benchmark steps of the tiny QB-Heat, and the model after."""
    model = tiny_qbheat()
    torch.manual_seed(1)
    # 4 images of 128 px: BatchNorm over 2 x 2 x 4 values, not over 2 (which would turn
    # float rounding into visible loss differences).
    x = torch.randn(4, 3, 128, 128)
    step = peer_step(model, 'qbheat', x, **step_options)
    return [float(step()) for _ in range(steps)], model


@pytest.mark.parametrize('impl', [i for i in OPTIMIZER_IMPLS if i != 'plain'])
def test_foreach_and_fused_adamw_train_like_the_plain_loop(tiny_qbheat, impl):
    (ref, ref_model), (got, model) = (
        _losses_after_steps(tiny_qbheat, dict(optimizer_impl=i), steps=1)
        for i in ('plain', impl))
    for (k, a), b in zip(ref_model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=k)  # after one update
    (ref, _), (got, _) = (_losses_after_steps(tiny_qbheat, dict(optimizer_impl=i))
                          for i in ('plain', impl))
    assert got == pytest.approx(ref, rel=1e-6)  # the second loss follows one update


def test_channels_last_gives_the_plain_loss(tiny_qbheat):
    (ref, _), (got, model) = (_losses_after_steps(tiny_qbheat, dict(channels_last=c))
                              for c in (False, True))
    assert model.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert got == pytest.approx(ref, rel=1e-6)


def _train_step_losses(tiny_qbheat, tiny_cfg, compile_cfg, steps: int = 2) -> list:
    """Losses of MMEngine's ``train_step``, compiled the way the Runner does it."""
    model = tiny_qbheat()
    model.data_preprocessor = MODELS.build(tiny_cfg['data_preprocessor'])
    if compile_cfg is not None:
        runner = SimpleNamespace(cfg=Config(dict(compile=compile_cfg)), model=model,
                                 logger=MMLogger.get_current_instance())
        Runner._maybe_compile(runner, 'train_step')
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    torch.manual_seed(1)
    data = dict(inputs=torch.randint(0, 256, (4, 3, 128, 128), dtype=torch.uint8),
                data_samples=[DataSample() for _ in range(4)])
    return [float(model.train_step(data, wrapper)['loss']) for _ in range(steps)]


# aot_eager traces the graphs inductor would get (dynamo + AOTAutograd) without the C++
# code generation, which takes minutes on 2 cores: QBHEAT_TEST_INDUCTOR=1 adds inductor.
COMPILE_BACKENDS = ['aot_eager', pytest.param('inductor', marks=pytest.mark.skipif(
    not os.environ.get('QBHEAT_TEST_INDUCTOR'), reason='set QBHEAT_TEST_INDUCTOR=1'))]


@pytest.mark.slow  # compiles MMEngine's train_step: about 20 s on 2 cores
@pytest.mark.parametrize('backend', COMPILE_BACKENDS)
def test_mmengine_compile_option_gives_the_plain_loss(tiny_qbheat, tiny_cfg, backend):
    ref = _train_step_losses(tiny_qbheat, tiny_cfg, None)
    got = _train_step_losses(tiny_qbheat, tiny_cfg, dict(backend=backend))
    assert got == pytest.approx(ref, rel=1e-5)  # the second loss follows one update


@pytest.mark.slow  # over about 10 s on 2 busy cores (a subprocess or every config)
@pytest.mark.parametrize('backend', COMPILE_BACKENDS)
def test_benchmark_compile_option_gives_the_plain_loss(tiny_qbheat, backend):
    (ref, _), (got, _) = (_losses_after_steps(tiny_qbheat, dict(compile=c), steps=1)
                          for c in (False, dict(backend=backend)))
    assert got == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize('name,model_type,backbone_type', [
    ('qbheat', 'QBHeat', 'MobileFormer'),
    ('mocov2', 'MoCo', 'MobileFormer'),
    ('qbheat_lightdec', 'QBHeat', 'MobileFormer'),
    ('qbheat_r50', 'QBHeat', 'ResNet'),
    ('spark', 'SparK', 'SparseResNet'),
    ('mae', 'MAE', 'MAEViT'),
])
def test_every_peer_is_built_from_its_own_config(name, model_type, backbone_type):
    model = build_peer(name, img_size=128, batch_size=4)
    assert type(model).__name__ == model_type
    assert type(model.backbone).__name__ == backbone_type
    if name == 'spark':
        assert model.input_size == 128  # the mask grid follows the image size
    if name == 'mae':
        assert model.neck.num_patches == (128 // 16)**2
    if name == 'qbheat_lightdec':
        assert (len(model.decoder.blocks), model.decoder.embed_dims) == (2, 192)
    if name == 'mocov2':
        assert model.queue_len == 65536  # the recipe's queue: whole batches of 4 fit
