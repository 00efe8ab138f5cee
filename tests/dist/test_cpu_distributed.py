"""qbheat_mm.engine.cpu_distributed, what the project's tools install for a multi-process
run on a machine without a GPU: gloo and no ``cuda.set_device``, no ``device_ids`` for a
CPU model in DDP, and a CPU SyncBatchNorm that matches one BatchNorm over the whole batch
(values, gradients, running statistics); and that ``import qbheat_mm`` changes none of
torch or mmengine for it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.config import Config
from torch import nn

from qbheat_mm.engine import cpu_distributed
from qbheat_mm.engine.cpu_distributed import (CPUDistributedDataParallel, CPUSyncBatchNorm,
                                              prepare_cpu_distributed)
from dist_helpers import free_port

pytestmark = pytest.mark.dist

WORLD = 2

UNTOUCHED = """
import mmengine.dist.utils as du, torch
from mmengine.model import MMDistributedDataParallel as DDP
before = [torch.nn.SyncBatchNorm.forward, torch.cuda.set_device, DDP.__init__,
          DDP._passing_sync_batchnorm_handle, du._init_dist_pytorch, du._init_dist_slurm,
          du._init_dist_mpi]
import qbheat_mm, qbheat_mm.det, qbheat_mm.engine.cli
after = [torch.nn.SyncBatchNorm.forward, torch.cuda.set_device, DDP.__init__,
         DDP._passing_sync_batchnorm_handle, du._init_dist_pytorch, du._init_dist_slurm,
         du._init_dist_mpi]
print([a is b for a, b in zip(before, after)])
"""


def test_importing_the_plugin_changes_nothing_of_torch_or_mmengine_dist():
    out = subprocess.run([sys.executable, '-c', UNTOUCHED], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == str([True] * 7)


def test_the_upstream_releases_still_need_it():
    """Fails once the pinned mmengine or torch moves past the releases worked around:
    then check whether they handle CPU-only machines themselves and delete the module."""
    assert cpu_distributed.MMENGINE_NEEDS_IT and cpu_distributed.TORCH_NEEDS_IT


def test_cpu_machine_gets_gloo_and_no_set_device(monkeypatch):
    logged, set_device_calls, calls = [], [], []
    monkeypatch.setattr(cpu_distributed, 'print_log', lambda msg, **kwargs: logged.append(msg))
    monkeypatch.setattr(torch.cuda, 'set_device', set_device_calls.append)

    def init_dist(launcher, backend, **kwargs):
        torch.cuda.set_device(0)  # what mmengine 0.10.7 does unconditionally
        calls.append((launcher, backend, kwargs))

    monkeypatch.setattr(cpu_distributed, 'init_dist', init_dist)
    cpu_distributed.init_dist_on_cpu('pytorch', backend='nccl', timeout=5)
    assert calls == [('pytorch', 'gloo', dict(timeout=5))]
    assert set_device_calls == []  # skipped inside, restored after
    assert torch.cuda.set_device == set_device_calls.append
    assert logged == ["No GPU found: distributed training uses the gloo backend on the CPU "
                      "instead of 'nccl' (qbheat_mm.engine.cpu_distributed)."]


@pytest.mark.parametrize('wrapper, expected', [
    (None, dict(type='CPUDistributedDataParallel', broadcast_buffers=False,
                find_unused_parameters=True)),
    (dict(broadcast_buffers=True), dict(type='CPUDistributedDataParallel',
                                        broadcast_buffers=True)),
    (dict(type='MMDistributedDataParallel', static_graph=True),
     dict(type='CPUDistributedDataParallel', static_graph=True)),
    (dict(type='MMFullyShardedDataParallel'), dict(type='MMFullyShardedDataParallel')),
])
def test_prepare_selects_the_cpu_wrapper_only_where_it_belongs(monkeypatch, wrapper,
                                                               expected):
    started = []
    monkeypatch.setattr(cpu_distributed, 'get_device', lambda: 'cpu')
    monkeypatch.setattr(cpu_distributed, 'init_dist_on_cpu',
                        lambda launcher, **kw: started.append((launcher, kw)))
    monkeypatch.setattr(cpu_distributed, 'print_log', lambda *a, **k: None)
    cfg = Config(dict(launcher='pytorch', find_unused_parameters=True,
                      env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    if wrapper is not None:
        cfg.model_wrapper_cfg = wrapper
    assert prepare_cpu_distributed(cfg)
    assert cfg.model_wrapper_cfg == expected
    assert started == [('pytorch', dict(backend='nccl', timeout=60))]
    # One process, or a GPU machine: nothing at all.
    single = Config(dict(launcher='none'))
    assert not prepare_cpu_distributed(single) and 'model_wrapper_cfg' not in single
    monkeypatch.setattr(cpu_distributed, 'get_device', lambda: 'cuda')
    gpu = Config(dict(launcher='pytorch'))
    assert not prepare_cpu_distributed(gpu) and 'model_wrapper_cfg' not in gpu
    assert len(started) == 1


def test_the_wrapper_drops_device_ids_and_converts_sync_bn_only_on_the_cpu(monkeypatch):
    seen = {}

    def ddp_init(self, module, **kwargs):
        seen.update(module=module, kwargs=kwargs)

    monkeypatch.setattr(cpu_distributed.MMDistributedDataParallel, '__init__', ddp_init)
    model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(2)))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    CPUDistributedDataParallel(module=model, device_ids=[1], output_device=1,
                               broadcast_buffers=False)
    assert seen['kwargs'] == dict(device_ids=None, broadcast_buffers=False)
    assert type(model[0]) is CPUSyncBatchNorm
    assert model.state_dict().keys() == state.keys()


def _sync_bn_worker(rank: int, port: int, x: torch.Tensor, g: torch.Tensor,
                    out: Path) -> None:
    """One rank: mmengine's own init_dist asking for NCCL, SyncBN in MMEngine's DDP wrapper
    built as the Runner builds it (device_ids=[LOCAL_RANK]), half of the batch."""
    os.environ.update(CUDA_VISIBLE_DEVICES='', RANK=str(rank), WORLD_SIZE=str(WORLD),
                      LOCAL_RANK=str(rank), MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cpu_distributed.init_dist_on_cpu('pytorch', backend='nccl')
    try:
        torch.manual_seed(0)
        model = nn.SyncBatchNorm.convert_sync_batchnorm(
            nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)))
        ddp = CPUDistributedDataParallel(module=model, device_ids=[rank],
                                         broadcast_buffers=False)
        x_local = x.chunk(WORLD)[rank].clone().requires_grad_()
        y = ddp(x_local)
        (y * g.chunk(WORLD)[rank]).sum().backward()
        torch.save(dict(backend=dist.get_backend(), device_ids=ddp.device_ids,
                        y=y.detach(), x_grad=x_local.grad,
                        grads={n: p.grad for n, p in model.named_parameters()},
                        buffers=dict(model.named_buffers())), out / f'{rank}.pt')
    finally:
        dist.destroy_process_group()


def test_cpu_sync_bn_matches_batch_norm_over_the_whole_batch(tmp_path):
    torch.manual_seed(1)
    x = torch.randn(6, 3, 5, 5) * 3 + 1  # 3 images per rank
    g = torch.randn(6, 4, 5, 5)
    mp.spawn(_sync_bn_worker, args=(free_port(), x, g, tmp_path), nprocs=WORLD)
    ranks = [torch.load(tmp_path / f'{r}.pt', weights_only=False) for r in range(WORLD)]

    torch.manual_seed(0)
    reference = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    x_ref = x.clone().requires_grad_()
    y_ref = reference(x_ref)
    (y_ref * g).sum().backward()

    assert [r['backend'] for r in ranks] == ['gloo', 'gloo']
    assert [r['device_ids'] for r in ranks] == [None, None]
    torch.testing.assert_close(torch.cat([r['y'] for r in ranks]), y_ref)
    torch.testing.assert_close(torch.cat([r['x_grad'] for r in ranks]), x_ref.grad)
    for name, param in reference.named_parameters():
        # DDP averages the ranks' gradients; the reference loss is their sum. (The conv
        # bias before the BN has a zero true gradient, so only round-off is compared.)
        for r in ranks:
            torch.testing.assert_close(r['grads'][name] * WORLD, param.grad, atol=1e-4,
                                       rtol=1e-5)
    for name, buffer in reference.named_buffers():
        for r in ranks:
            torch.testing.assert_close(r['buffers'][name], buffer)
    assert int(ranks[0]['buffers']['1.num_batches_tracked']) == 1
