"""A test-only hook, imported by the 2-process runs through ``custom_imports``: every rank
saves its own model state when training ends, so tests can compare the ranks (the
Runner's checkpoints hold rank 0's state only)."""
from __future__ import annotations

import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpRankStateHook(Hook):
    """Write ``rank<r>.pth`` into the work dir after training: the unwrapped model's state
    dict (tensors cloned to the CPU), its parameter names (all, and those that train), the
    iteration and epoch, the world size, the backend and the model wrapper's type."""

    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        backend = dist.get_backend() if dist.is_initialized() else None
        named = list(model.named_parameters())
        torch.save(dict(state=state, iter=runner.iter, epoch=runner.epoch,
                        params=[n for n, _ in named],
                        trainable=[n for n, p in named if p.requires_grad],
                        world_size=runner.world_size, backend=backend,
                        wrapper=type(runner.model).__name__),
                   osp.join(runner.work_dir, f'rank{runner.rank}.pth'))
