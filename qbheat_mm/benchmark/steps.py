"""What the benchmarks time: one training step of QB-Heat or of a peer, and the parts of a
QB-Heat step.

A training step is the same for every method: gradients set to None, the method's own
``loss`` on a random normalised batch, backward, one AdamW step over its trainable
parameters. The peers are built from their own configs (ours for QB-Heat and MoCo-v2,
MMPretrain's for SparK and MAE), only resized to the benchmark's image size.

Speed options (the same computation; tested to give the same loss as the plain step):
``optimizer_impl`` (``'foreach'`` or ``'fused'`` AdamW), ``channels_last`` (weights and
inputs in NHWC, for GPUs) and ``compile`` (``torch.compile`` of the loss, what MMEngine's
``compile=True`` does to ``train_step``). ``amp_dtype`` (autocast, e.g. bfloat16 on a GPU)
changes the arithmetic and is reported as such.
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope
from torch import nn

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from qbheat_mm.apis import config_path
from qbheat_mm.models.utils.quarters import visible_quarter

__all__ = ['Peer', 'PEERS', 'OPTIMIZER_IMPLS', 'AMP_DTYPES', 'build_peer', 'peer_step',
           'qbheat_part_fns', 'state_mb']

OPTIMIZER_IMPLS = ('plain', 'foreach', 'fused')
AMP_DTYPES = dict(bf16=torch.bfloat16, fp16=torch.float16)


@dataclasses.dataclass(frozen=True)
class Peer:
    """One method of the comparison.

    Args:
        label (str): What the tables call it (method, backbone).
        config (str): Its config: ``qbheat_mm::DIR/NAME.py`` (ours) or
            ``mmpretrain::...``.
        kind (str): How its ``loss`` is called: ``'qbheat'``, ``'moco'`` (two views),
            ``'spark'`` or ``'mae'``.
        backbone (str): The encoder, for the tables.
    """
    label: str
    config: str
    kind: str
    backbone: str


PEERS: Dict[str, Peer] = {
    'qbheat': Peer('QB-Heat', 'qbheat_mm::qbheat_mobileformer_in1k.py', 'qbheat',
                   'Mobile-Former-294M'),
    'qbheat_lightdec': Peer(
        'QB-Heat, decoder 2 x 192',
        'qbheat_mm::qbheat/qbheat_mobileformer-294m-lightdec_8xb256-coslr-300e_in1k.py', 'qbheat',
        'Mobile-Former-294M'),
    'mocov2': Peer('MoCo-v2', 'qbheat_mm::mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py',
                   'moco', 'Mobile-Former-294M'),
    'qbheat_r50': Peer('QB-Heat', 'qbheat_mm::qbheat/qbheat_resnet50_8xb256-coslr-300e_in1k.py',
                       'qbheat', 'ResNet-50'),
    'spark': Peer('SparK', 'mmpretrain::spark/spark_sparse-resnet50_8xb512-amp-coslr-800e_in1k.py',
                  'spark', 'SparseResNet-50'),
    'mae': Peer('MAE', 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py', 'mae',
                'ViT-B/16'),
}


def _model_cfg(peer: Peer, img_size: int, batch_size: int) -> dict:
    """The peer's model config, resized to ``img_size`` where the model is built for one."""
    if peer.config.startswith('mmpretrain::'):
        cfg = get_config(peer.config)
    else:  # a project config, from a checkout or an installed package
        cfg = Config.fromfile(config_path(peer.config))
    model = cfg.model.to_dict()
    if peer.kind == 'moco' and model['queue_len'] % batch_size:
        # MoCo enqueues whole batches: the largest queue <= the configured one that fits.
        model['queue_len'] = model['queue_len'] // batch_size * batch_size
    elif peer.kind == 'spark':
        model['input_size'] = img_size  # the mask is drawn on this grid
        # One process: the synchronised norms of the recipe would only add a no-op sync.
        model['enc_dec_norm_cfg'] = dict(type='SparseBatchNorm2d')
        model['backbone']['norm_cfg'] = dict(type='SparseBatchNorm2d')
    elif peer.kind == 'mae':
        patch = model['backbone']['patch_size']
        model['backbone']['img_size'] = img_size
        model['neck']['num_patches'] = (img_size // patch)**2
    return model


def build_peer(name: str, img_size: int, batch_size: int,
               device: torch.device | str = 'cpu') -> nn.Module:
    """Build peer ``name`` of :data:`PEERS` for ``batch_size`` images of ``img_size``."""
    if name not in PEERS:
        raise ValueError(f'unknown peer {name!r}; choose from {sorted(PEERS)}')
    init_default_scope('mmpretrain')
    model = MODELS.build(_model_cfg(PEERS[name], img_size, batch_size))
    return model.to(device).train()


def _loss_fn(model: nn.Module, kind: str, x: torch.Tensor, x2: torch.Tensor) -> Callable:
    samples = [DataSample() for _ in range(x.shape[0])]
    if kind == 'qbheat':
        return lambda: model.loss(x)
    if kind == 'moco':
        return lambda: model.loss([x, x2], samples)
    return lambda: model.loss(x, samples)


def _adamw(params: List[nn.Parameter], impl: str) -> torch.optim.Optimizer:
    if impl not in OPTIMIZER_IMPLS:
        raise ValueError(f'optimizer_impl must be one of {OPTIMIZER_IMPLS}, got {impl!r}')
    # 'plain' pins the single-tensor loop, whatever torch would choose by default.
    flags = dict(plain=dict(foreach=False), foreach=dict(foreach=True),
                 fused=dict(fused=True))[impl]
    return torch.optim.AdamW(params, lr=1e-4, weight_decay=0.05, **flags)


def peer_step(model: nn.Module, kind: str, x: torch.Tensor, x2: Optional[torch.Tensor] = None,
              optimizer_impl: str = 'plain', channels_last: bool = False,
              compile: bool | dict = False,
              amp_dtype: Optional[torch.dtype] = None,
              loss_fn: Optional[Callable[[], dict]] = None) -> Callable[[], torch.Tensor]:
    """One training step of ``model`` on batch ``x`` as a function returning the loss.

    Args:
        model (nn.Module): A built self-supervisor on ``x``'s device, in train mode.
        kind (str): How its loss is called (see :class:`Peer`).
        x (torch.Tensor): The batch, N x 3 x H x W.
        x2 (torch.Tensor, optional): The second view of two-view methods (MoCo).
        optimizer_impl (str): AdamW as ``'plain'`` (single-tensor loop), ``'foreach'``
            or ``'fused'``.
        channels_last (bool): Weights and inputs in channels-last memory format.
        compile (bool | dict): ``torch.compile`` the loss (a dict: its options).
        amp_dtype (torch.dtype, optional): Run the loss under autocast in this dtype.
        loss_fn (callable, optional): ``fn() -> dict of losses`` instead of the model's
            own ``loss`` on ``x`` (e.g. an older computation path, to time against).

    Returns:
        callable: ``fn() -> loss`` (the summed, detached loss of the step it ran).
    """
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
        x2 = None if x2 is None else x2.contiguous(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = _adamw(params, optimizer_impl)
    if loss_fn is None:
        loss_fn = _loss_fn(model, kind, x, x if x2 is None else x2)
    if compile:
        loss_fn = torch.compile(loss_fn, **(compile if isinstance(compile, dict) else {}))

    def step() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with (torch.autocast(x.device.type, dtype=amp_dtype) if amp_dtype
              else contextlib.nullcontext()):
            losses = loss_fn()
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def state_mb(model: nn.Module, optimizer_states: int = 2) -> float:
    """Weights, buffers, gradients and AdamW's two moments of a model, in MiB."""
    trainable = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() * p.element_size() for p in model.parameters()
                 if not p.requires_grad)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    return (frozen + buffers + trainable * (2 + optimizer_states)) / 2**20


def _fwd_bwd(module: Callable, x: torch.Tensor, params: list[nn.Parameter],
             **kwargs) -> Callable:
    """fn() running module(x) forward and backward (sum of the output), grads zeroed."""

    def fn():
        for p in params:
            p.grad = None
        out = module(x, **kwargs)
        out = out[-1] if isinstance(out, (tuple, list)) else out
        out.float().sum().backward()

    return fn


def qbheat_part_fns(model: nn.Module, x: torch.Tensor) -> Dict[str, Callable[[], None]]:
    """Forward + backward of the parts of a QB-Heat step on batch ``x``, as functions.

    ``encoder_quarter`` (the encoder on the visible quarter: the floor of any step),
    ``encoder_full`` (the same encoder on the whole image, what an approach that encodes
    every pixel pays), ``neck`` and ``decoder`` (on detached inputs, the decoder as the
    loss calls it: without the visible quarter when the loss is masked).
    """
    model.check_geometry(x)
    params = [p for p in model.parameters() if p.requires_grad]
    quarter = visible_quarter(x).contiguous()
    with torch.no_grad():
        z = model.encode_visible(x)
        full_map = model.neck(z)
    z = z.detach().requires_grad_(True)
    full_map = full_map.detach().requires_grad_(True)
    mask = model.head.loss_mask(model.head.grid_of(x), x.device)
    return dict(
        encoder_quarter=_fwd_bwd(model.backbone, quarter, params),
        encoder_full=_fwd_bwd(model.backbone, x, params),
        neck=_fwd_bwd(model.neck, z, params),
        decoder=_fwd_bwd(model.decoder, full_map, params, mask=mask))
