"""The check DDP makes with find_unused_parameters=False (the Runner's default), in one
process and in seconds: after one training step of the real pre-training configs' models,
every trainable parameter has a gradient. A parameter outside the graph (like the final
Mobile->Former bridge used to be) crashes DDP at its second iteration."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from dist_helpers import REPO

pytestmark = pytest.mark.dist

CONFIGS = {
    'qbheat': REPO / 'configs' / 'qbheat_mobileformer_in1k.py',
    'mocov2': REPO / 'configs' / 'mocov2' / 'mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py',
}


def training_step_inputs(name: str) -> dict:
    """A collated batch of two 64 px images as the config's dataloader would give it."""
    torch.manual_seed(0)
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    # MoCo-v2: a list of two views; QB-Heat: one batch tensor.
    inputs = [images, images.flip(-1)] if name == 'mocov2' else images
    return dict(inputs=inputs, data_samples=[DataSample() for _ in images])


@pytest.mark.parametrize('name', list(CONFIGS))
def test_every_trainable_parameter_gets_a_gradient(name):
    cfg = Config.fromfile(CONFIGS[name])
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    data = model.data_preprocessor(training_step_inputs(name), training=True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    without_grad = sorted(n for n, p in model.named_parameters()
                          if p.requires_grad and p.grad is None)
    assert trainable and not without_grad
    # The final bridge is kept for the checkpoint keys, frozen because it never runs.
    assert not any(n.startswith('backbone.mobile_to_former.') for n in trainable)
