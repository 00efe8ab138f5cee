"""qbheat_mm.compat's distributed patches: gloo and no ``cuda.set_device`` without a GPU,
no ``device_ids`` for a CPU model in DDP, and a CPU SyncBatchNorm that matches one
BatchNorm over the whole batch (values, gradients, running statistics)."""
from __future__ import annotations

import os
from pathlib import Path

import mmengine.dist.utils as mmengine_dist_utils
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from torch import nn

from qbheat_mm import compat
from dist_helpers import free_port

pytestmark = pytest.mark.dist

WORLD = 2


def test_patches_are_installed_once():
    assert compat.DIST_CPU_PATCH_NEEDED and compat.SYNC_BN_CPU_PATCH_NEEDED
    for name in ('_init_dist_pytorch', '_init_dist_slurm', '_init_dist_mpi'):
        assert getattr(mmengine_dist_utils, name).__wrapped_by_qbheat__
    init = mmengine_dist_utils._init_dist_pytorch
    compat.apply_patches()
    assert mmengine_dist_utils._init_dist_pytorch is init  # idempotent: no double wrapping
    assert MMDistributedDataParallel.__init__.__wrapped_by_qbheat__
    assert nn.SyncBatchNorm.forward.__wrapped_by_qbheat__


def _recording_init(calls: list):
    def init(backend, *args, **kwargs):
        torch.cuda.set_device(0)  # what mmengine 0.10.7 does unconditionally
        calls.append((backend, args, kwargs))
    return init


def test_cpu_machine_gets_gloo_and_no_set_device(monkeypatch):
    monkeypatch.setattr(compat, 'get_device', lambda: 'cpu')
    logged = []
    monkeypatch.setattr(compat, 'print_log', lambda msg, **kwargs: logged.append(msg))
    set_device_calls = []
    monkeypatch.setattr(torch.cuda, 'set_device', set_device_calls.append)
    calls = []
    compat._cpu_capable_dist_init(_recording_init(calls))('nccl', init_backend='torch',
                                                          timeout=5)
    assert calls == [('gloo', (), dict(init_backend='torch', timeout=5))]
    assert set_device_calls == []  # skipped inside, restored after
    assert torch.cuda.set_device == set_device_calls.append
    assert logged == ["No GPU found: distributed training uses the gloo backend on the CPU "
                      "instead of 'nccl' (qbheat_mm.compat)."]


def test_gpu_machine_is_left_alone(monkeypatch):
    monkeypatch.setattr(compat, 'get_device', lambda: 'cuda')
    set_device_calls = []
    monkeypatch.setattr(torch.cuda, 'set_device', set_device_calls.append)
    calls = []
    compat._cpu_capable_dist_init(_recording_init(calls))('nccl')
    assert calls == [('nccl', (), {})] and set_device_calls == [0]


@pytest.mark.parametrize('module_first', [True, False])
def test_ddp_gets_no_device_ids_for_a_cpu_model(module_first):
    seen = {}

    def init(self, *args, **kwargs):
        seen.update(args=args, kwargs=kwargs)

    wrapped = compat._cpu_capable_ddp_init(init)
    model = nn.Linear(2, 2)
    if module_first:
        wrapped(None, model, device_ids=[1], output_device=1, broadcast_buffers=False)
        assert seen['args'] == (model, )
    else:
        wrapped(None, module=model, device_ids=[1], broadcast_buffers=False)
    assert seen['kwargs']['device_ids'] is None and 'output_device' not in seen['kwargs']
    assert seen['kwargs']['broadcast_buffers'] is False


def _sync_bn_worker(rank: int, port: int, x: torch.Tensor, g: torch.Tensor,
                    out: Path) -> None:
    """One rank: mmengine's own init_dist asking for NCCL, SyncBN in MMEngine's DDP wrapper
    built as the Runner builds it (device_ids=[LOCAL_RANK]), half of the batch."""
    os.environ.update(CUDA_VISIBLE_DEVICES='', RANK=str(rank), WORLD_SIZE=str(WORLD),
                      LOCAL_RANK=str(rank), MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from mmengine.dist import init_dist

    import qbheat_mm.compat  # noqa: F401  (the patches)
    init_dist('pytorch', backend='nccl')
    try:
        torch.manual_seed(0)
        model = nn.SyncBatchNorm.convert_sync_batchnorm(
            nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)))
        ddp = MMDistributedDataParallel(module=model, device_ids=[rank],
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
