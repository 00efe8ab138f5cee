"""Multi-process training on machines without a GPU, installed by the project's tools only.

mmengine 0.10.7 and torch 2.14.1 cannot run a distributed job on CPUs as they are:

- ``mmengine.dist.init_dist`` calls ``torch.cuda.set_device`` unconditionally ("Found no
  NVIDIA driver"), and our configs ask for NCCL, which needs GPUs;
- the Runner passes ``device_ids=[LOCAL_RANK]`` to DistributedDataParallel, which torch
  rejects for a CPU model;
- torch's ``SyncBatchNorm`` raises "SyncBatchNorm expected input tensor to be on GPU" for
  CPU tensors, and DDP refuses to wrap a CPU model that holds SyncBatchNorm layers, so
  ``sync_bn='torch'`` cannot run (or be tested) on a CPU.

:func:`prepare_cpu_distributed` (called by ``tools/train.py``, ``tools/test.py`` and
``tools/analysis/knn_eval.py`` through :func:`qbheat_mm.engine.cli.load_config`, and only
for a multi-process run on a machine without a GPU) starts the process group with gloo
and points the config's ``model_wrapper_cfg`` at :class:`CPUDistributedDataParallel`,
which drops ``device_ids`` and turns SyncBatchNorm layers into :class:`CPUSyncBatchNorm`.
Nothing of torch or mmengine is changed: ``import qbheat_mm`` leaves both as they are,
and GPU runs are untouched.

Remove once the pinned mmengine initialises CPU-only machines itself (set_device only with
a GPU, a CPU backend, ``device_ids=None`` on the CPU) and torch synchronises batch
statistics of CPU tensors: mmengine > 0.10.7, torch > 2.14.1 (tests/dist checks both
bounds).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional

import mmengine
import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.dist import init_dist
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS
from mmengine.utils import digit_version
from torch import nn

__all__ = ['CPUDistributedDataParallel', 'CPUSyncBatchNorm', 'init_dist_on_cpu',
           'prepare_cpu_distributed', 'sync_batch_norm_cpu']

#: The upstream releases this module works around (see the module docstring).
MMENGINE_NEEDS_IT = digit_version(mmengine.__version__) <= digit_version('0.10.7')
TORCH_NEEDS_IT = digit_version(torch.__version__) <= digit_version('2.14.1')

#: The wrapper MMEngine's Runner uses by default, which :func:`prepare_cpu_distributed`
#: replaces; a config naming any other wrapper is left alone.
DEFAULT_WRAPPER = 'MMDistributedDataParallel'


@contextlib.contextmanager
def _without_cuda_set_device() -> Iterator[None]:
    """Make ``torch.cuda.set_device`` a no-op for the duration (there is no GPU to pick)."""
    set_device = torch.cuda.set_device
    torch.cuda.set_device = lambda device: None
    try:
        yield
    finally:
        torch.cuda.set_device = set_device


def init_dist_on_cpu(launcher: str, backend: str = 'gloo', **kwargs) -> None:
    """mmengine's ``init_dist`` for a machine without a GPU: the gloo backend (whatever
    ``backend`` the config asked for; a log line says so) and no ``cuda.set_device``
    while it runs. Environment, ranks and process group are mmengine's own."""
    with _without_cuda_set_device():
        init_dist(launcher, backend='gloo', **kwargs)
    if backend != 'gloo':
        print_log(f'No GPU found: distributed training uses the gloo backend on the CPU '
                  f'instead of {backend!r} (qbheat_mm.engine.cpu_distributed).',
                  logger='current')


class _AllReduceSum(torch.autograd.Function):
    """Sum over the ranks; the gradient is summed over the ranks too (each rank's loss
    depends on every rank's input through the sum)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, group: Optional[dist.ProcessGroup]) -> torch.Tensor:
        ctx.group = group
        tensor = tensor.clone()
        dist.all_reduce(tensor, group=group)
        return tensor

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        grad = grad.clone()
        dist.all_reduce(grad, group=ctx.group)
        return grad, None


def sync_batch_norm_cpu(bn: nn.SyncBatchNorm, x: torch.Tensor,
                        group: Optional[dist.ProcessGroup]) -> torch.Tensor:
    """Training-mode batch norm with statistics over the whole batch of every rank.

    For a CPU tensor (gloo), as torch's SyncBatchNorm does on GPUs: with ``n`` values per
    channel in all ranks together, ``mean = sum(x) / n`` and ``var = sum((x - mean)^2) / n``
    normalise, and the running variance gets the unbiased ``var * n / (n - 1)``. Both sums
    are all-reduced by an autograd function whose backward all-reduces the gradients, so
    each rank receives the gradient of the total loss through the shared statistics, as
    with a single large batch.
    """
    dims = [0] + list(range(2, x.dim()))
    shape = [1, -1] + [1] * (x.dim() - 2)
    count = x.new_tensor([x.numel() / x.shape[1]])
    sums = _AllReduceSum.apply(torch.cat([x.sum(dims), count]), group)
    total = sums[-1]
    mean = sums[:-1] / total
    centred = x - mean.view(shape)
    var = _AllReduceSum.apply((centred * centred).sum(dims), group) / total
    y = centred * torch.rsqrt(var + bn.eps).view(shape)
    if bn.affine:
        y = y * bn.weight.view(shape) + bn.bias.view(shape)
    if bn.track_running_stats:
        with torch.no_grad():
            bn.num_batches_tracked.add_(1)
            factor = (1.0 / float(bn.num_batches_tracked) if bn.momentum is None
                      else bn.momentum)
            bn.running_mean.lerp_(mean.detach(), factor)
            bn.running_var.lerp_(var.detach() * total / (total - 1), factor)
    return y


class CPUSyncBatchNorm(nn.SyncBatchNorm):
    """torch's ``SyncBatchNorm`` that also synchronises CPU tensors of a multi-process
    run (:func:`sync_batch_norm_cpu`); everything else takes torch's own path. Same
    parameters and buffers, so checkpoints are interchangeable."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.device.type == 'cpu' and self.training and dist.is_available()
                and dist.is_initialized()):
            group = self.process_group or dist.group.WORLD
            if dist.get_world_size(group) > 1:
                self._check_input_dim(x)
                return sync_batch_norm_cpu(self, x, group)
        return super().forward(x)


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper for a model on the CPU: no ``device_ids`` (torch rejects
    them for CPU modules; the Runner always passes ``[LOCAL_RANK]``), and its
    SyncBatchNorm layers become :class:`CPUSyncBatchNorm` (which DDP then accepts).
    A model with GPU parameters is wrapped exactly as by ``MMDistributedDataParallel``."""

    def __init__(self, module: nn.Module, **kwargs) -> None:
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
            for layer in module.modules():
                if type(layer) is nn.SyncBatchNorm:
                    layer.__class__ = CPUSyncBatchNorm  # same state, CPU-capable forward
        super().__init__(module=module, **kwargs)

    def _passing_sync_batchnorm_handle(self, module: nn.Module) -> None:
        if self.device_type != 'cpu':  # the CPU's SyncBatchNorm layers are ours
            super()._passing_sync_batchnorm_handle(module)


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Ready a multi-process run for a machine without a GPU; True if it did anything.

    With ``cfg.launcher`` other than ``'none'`` and no GPU: the process group starts with
    gloo (:func:`init_dist_on_cpu`, with the config's ``env_cfg.dist_cfg`` but its
    backend), so the Runner finds it running and does not start its own, and the Runner's
    default wrapper becomes :class:`CPUDistributedDataParallel` (a config's own
    ``model_wrapper_cfg`` keeps its other settings; another wrapper type is kept and
    named in a log line). On a GPU machine, or for one process, nothing changes.
    """
    if cfg.get('launcher', 'none') == 'none' or get_device() != 'cpu':
        return False
    if not dist.is_initialized():
        dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
        init_dist_on_cpu(cfg.launcher, **dist_cfg)
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:
        cfg.model_wrapper_cfg = dict(
            type='CPUDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif wrapper.get('type', DEFAULT_WRAPPER) in (DEFAULT_WRAPPER, 'CPUDistributedDataParallel'):
        wrapper['type'] = 'CPUDistributedDataParallel'
    else:
        print_log(f"model_wrapper_cfg type {wrapper['type']!r} is kept on this machine "
                  'without a GPU; it must handle CPU models itself (qbheat_mm wraps '
                  f'{DEFAULT_WRAPPER} only)', logger='current')
    return True
