"""Train in the channels-last memory format (``tools/train.py --channels-last``).

Channels-last (N x H x W x C in memory) is what cuDNN's and oneDNN's fastest convolution
kernels read; on a GPU with tensor cores (bf16/fp16) it typically saves the layout
transposes around every convolution. It changes where numbers sit in memory, not which
numbers are computed: the loss equals the plain path's within float rounding (tested).

The weights are converted once, after the model is built and before MMEngine wraps it
(DistributedDataParallel lays out its gradient buckets from the parameters it is given,
so converting afterwards would leave buckets whose strides no longer match the
gradients). Weights are initialised in the default layout (the same seed gives the same
weights as without the option) and converted back. Inputs need no conversion: a
convolution whose weight is channels-last produces a channels-last output, so the format
spreads from the first layer on.
Checkpoints are unaffected: ``state_dict`` tensors load into either layout.
"""
from __future__ import annotations

from typing import Type

import torch
from mmengine.runner import Runner
from torch import nn

__all__ = ['to_channels_last', 'channels_last_runner']


def to_channels_last(model: nn.Module) -> nn.Module:
    """Convert every 4-D parameter and buffer of ``model`` to channels-last, in place.

    Linear layers, norms and other tensors of fewer dimensions are left as they are.
    """
    return model.to(memory_format=torch.channels_last)


def channels_last_runner(runner_cls: Type[Runner] = Runner) -> Type[Runner]:
    """A subclass of ``runner_cls`` whose model is channels-last before it is wrapped.

    Works for MMEngine's ``Runner`` and any subclass of it (a config's ``runner_type``),
    so distributed training (DDP through ``--launcher``) gets the layout from the start.
    """
    if not (isinstance(runner_cls, type) and issubclass(runner_cls, Runner)):
        raise TypeError(f'channels_last_runner needs an mmengine Runner class, got '
                        f'{runner_cls!r}')

    class ChannelsLastRunner(runner_cls):

        def wrap_model(self, model_wrapper_cfg, model):
            return super().wrap_model(model_wrapper_cfg, to_channels_last(model))

        def _init_model_weights(self) -> None:
            # In-place random inits (normal_, uniform_) fill a tensor in memory order, so
            # the same seed would give other weights in channels-last: initialise (and
            # broadcast) in the default layout, then go back.
            self.model.to(memory_format=torch.contiguous_format)
            super()._init_model_weights()
            to_channels_last(self.model)

    ChannelsLastRunner.__name__ = ChannelsLastRunner.__qualname__ = (
        f'ChannelsLast{runner_cls.__name__}')
    return ChannelsLastRunner
