"""QB-Heat against its peers, side by side in one process: one training step each.

A training step is the same for every method: gradients set to None, the method's own
``loss`` on a random normalised batch, backward, one AdamW step over its trainable
parameters. The peers are built from their own configs (ours for QB-Heat and MoCo-v2,
MMPretrain's for SparK and MAE), only resized to the benchmark's image size; the steps are
timed in interleaved rounds (:func:`~qbheat_mm.utils.benchmark.time_interleaved`) and
reported as medians, so the ratios hold on a machine other jobs share.

Speed options (the same computation; tested to give the same loss as the plain step):
``optimizer_impl`` (``'foreach'`` or ``'fused'`` AdamW), ``channels_last`` (weights and
inputs in NHWC, for GPUs) and ``compile`` (``torch.compile`` of the loss, what MMEngine's
``compile=True`` does to ``train_step``). ``amp_dtype`` (autocast, e.g. bfloat16 on a GPU)
changes the arithmetic and is reported as such.
"""
from __future__ import annotations

import contextlib
import dataclasses
import statistics
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope
from torch import nn

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from qbheat_mm.utils.benchmark import qbheat_part_fns, step_memory_mb, time_interleaved

__all__ = ['Peer', 'PEERS', 'OPTIMIZER_IMPLS', 'build_peer', 'peer_step', 'compare_peers',
           'paired_ratio', 'scaling_table']

REPO = Path(__file__).resolve().parents[2]
OPTIMIZER_IMPLS = ('plain', 'foreach', 'fused')


@dataclasses.dataclass(frozen=True)
class Peer:
    """One method of the comparison.

    Args:
        label (str): What the tables call it (method, backbone).
        config (str): Its config: a path under this repository or ``mmpretrain::...``.
        kind (str): How its ``loss`` is called: ``'qbheat'``, ``'moco'`` (two views),
            ``'spark'`` or ``'mae'``.
        backbone (str): The encoder, for the tables.
    """
    label: str
    config: str
    kind: str
    backbone: str


PEERS: Dict[str, Peer] = {
    'qbheat': Peer('QB-Heat', 'configs/qbheat_mobileformer_in1k.py', 'qbheat',
                   'Mobile-Former-294M'),
    'qbheat_lightdec': Peer(
        'QB-Heat, decoder 2 x 192',
        'configs/qbheat/qbheat_mobileformer-294m-lightdec_8xb256-coslr-300e_in1k.py', 'qbheat',
        'Mobile-Former-294M'),
    'mocov2': Peer('MoCo-v2', 'configs/mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py',
                   'moco', 'Mobile-Former-294M'),
    'qbheat_r50': Peer('QB-Heat', 'configs/qbheat/qbheat_resnet50_8xb256-coslr-300e_in1k.py',
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
    else:
        path = Path(peer.config)
        cfg = Config.fromfile(str(path if path.is_file() else REPO / path))
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


def paired_ratio(times: Sequence[float], ref_times: Sequence[float]) -> float:
    """Median over rounds of ``times[r] / ref_times[r]`` (both timed in round r)."""
    return statistics.median(t / r for t, r in zip(times, ref_times))


def _encoder_floor(model: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """Forward + backward of QB-Heat's encoder on the visible quarter alone."""
    return qbheat_part_fns(model, x)['encoder_quarter']


def _state_mb(model: nn.Module, optimizer_states: int = 2) -> float:
    """Weights, buffers, gradients and AdamW's two moments of a model, in MiB."""
    trainable = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() * p.element_size() for p in model.parameters()
                 if not p.requires_grad)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    return (frozen + buffers + trainable * (2 + optimizer_states)) / 2**20


def compare_peers(peers: Sequence[str] = tuple(PEERS), img_size: int = 256,
                  batch_size: int = 8, rounds: int = 5, warmup: int = 1,
                  device: torch.device | str = 'cpu', with_parts: bool = True,
                  seed: int = 0, **step_options) -> dict:
    """Time one training step of every peer, interleaved, and QB-Heat's encoder floor.

    Args:
        peers (sequence[str]): Names in :data:`PEERS`; must include ``'qbheat'`` (the
            reference of every ratio).
        img_size (int): Square image size of every peer (a multiple of 64).
        batch_size (int): Images per step (per view for MoCo).
        rounds (int): Interleaved timed rounds; medians are reported.
        warmup (int): Untimed steps of each peer first.
        device (torch.device | str): Where to run.
        with_parts (bool): Also time QB-Heat's neck and decoder (forward + backward).
        seed (int): Seed of the weights and of the random batch.
        **step_options: ``optimizer_impl``, ``channels_last``, ``compile``, ``amp_dtype``
            of :func:`peer_step`, for every peer.

    Returns:
        dict: ``setting`` and ``rows``, one per peer plus ``floor`` (and with
        ``with_parts`` the ``qbheat:neck`` and ``qbheat:decoder`` parts), each with
        ``ms`` (median), ``times_ms``, ``images_per_s``, ``ratio_to_qbheat`` (its median
        / QB-Heat's), ``paired_ratio_to_qbheat`` (the median over rounds of its time /
        QB-Heat's in the same round: steadier when other jobs come and go), ``step_memory_mb`` (see
        :func:`~qbheat_mm.utils.benchmark.step_memory_mb`), ``state_mb`` (weights,
        gradients, AdamW moments), ``params_m`` (trainable, millions) and ``loss``; and
        ``summary`` with the goals' ratios of ``'qbheat'`` and, under ``variants``, of
        every QB-Heat peer on the same encoder (its parts are timed as
        ``<name>:neck`` and ``<name>:decoder``).
    """
    peers = list(dict.fromkeys(peers))
    if 'qbheat' not in peers:
        raise ValueError('peers must include "qbheat", the reference of every ratio')
    device = torch.device(device)
    torch.manual_seed(seed)
    x = torch.randn(batch_size, 3, img_size, img_size, device=device)
    x2 = torch.randn(batch_size, 3, img_size, img_size, device=device)
    models, steps, fns = {}, {}, {}
    for name in peers:
        models[name] = build_peer(name, img_size, batch_size, device)
        steps[name] = peer_step(models[name], PEERS[name].kind, x, x2, **step_options)
        fns[name] = steps[name]
    qbheat = models['qbheat']
    fns['floor'] = _encoder_floor(qbheat, x)
    # Every QB-Heat on the reference's encoder (the default and its lighter-decoder
    # variant) is measured against the same floor, and its parts are timed.
    variants = [n for n in peers if PEERS[n].kind == 'qbheat'
                and PEERS[n].backbone == PEERS['qbheat'].backbone]
    if with_parts:
        for name in variants:
            parts = qbheat_part_fns(models[name], x)
            fns[f'{name}:neck'], fns[f'{name}:decoder'] = parts['neck'], parts['decoder']
    timings = time_interleaved(fns, device, rounds, warmup)
    ref = timings['qbheat']['median_ms']
    ref_times = timings['qbheat']['times_ms']
    rows = {}
    for name, timing in timings.items():
        ms = timing['median_ms']
        owner = name.split(':')[0] if name != 'floor' else 'qbheat'
        row = dict(ms=ms, times_ms=timing['times_ms'], ratio_to_qbheat=ms / ref,
                   paired_ratio_to_qbheat=paired_ratio(timing['times_ms'], ref_times),
                   images_per_s=batch_size / (ms / 1e3) if name in peers else None)
        if name in peers:
            peer = PEERS[name]
            row.update(label=peer.label, backbone=peer.backbone,
                       params_m=sum(p.numel() for p in models[name].parameters()
                                    if p.requires_grad) / 1e6,
                       state_mb=_state_mb(models[name]),
                       step_memory_mb=step_memory_mb(fns[name], device),
                       loss=float(steps[name]()))
        else:
            part = 'encoder alone on the visible quarter' if name == 'floor' else (
                f'its {name.split(":")[1]}')
            row.update(label=f'{PEERS[owner].label}: {part} (fwd + bwd)',
                       backbone=PEERS[owner].backbone)
        rows[name] = row
    goals = {name: _goal_ratios(rows, name, with_parts) for name in variants}
    summary = dict(goals['qbheat'], variants=goals)
    return dict(setting=dict(img_size=img_size, batch_size=batch_size, rounds=rounds,
                             warmup=warmup, device=str(device), peers=peers,
                             **{k: str(v) for k, v in step_options.items()}),
                rows=rows, summary=summary)


def _goal_ratios(rows: dict, name: str, with_parts: bool) -> dict:
    """The performance goals' ratios for QB-Heat variant ``name``: its step over the
    encoder floor, MoCo-v2's step over its step and (with parts) its neck + decoder share
    of its step; each as a ratio of medians and as a paired ratio (per round)."""
    step, step_times = rows[name]['ms'], rows[name]['times_ms']
    goals = dict(step_over_floor=step / rows['floor']['ms'],
                 paired_step_over_floor=paired_ratio(step_times, rows['floor']['times_ms']))
    if 'mocov2' in rows:
        goals['mocov2_over_qbheat'] = rows['mocov2']['ms'] / step
        goals['paired_mocov2_over_qbheat'] = paired_ratio(rows['mocov2']['times_ms'],
                                                          step_times)
    if with_parts:
        neck, decoder = rows[f'{name}:neck'], rows[f'{name}:decoder']
        goals['neck_decoder_share'] = (neck['ms'] + decoder['ms']) / step
        parts = [a + b for a, b in zip(neck['times_ms'], decoder['times_ms'])]
        goals['paired_neck_decoder_share'] = paired_ratio(parts, step_times)
    return goals


def scaling_table(peers: Sequence[str] = ('qbheat', 'mocov2'),
                  img_sizes: Sequence[int] = (128, 256, 384),
                  batch_sizes: Sequence[int] = (8, 16), **kwargs) -> List[dict]:
    """:func:`compare_peers` over a grid of image sizes and batch sizes.

    Returns:
        list[dict]: One entry per setting: ``img_size``, ``batch_size``, and per peer (and
        ``floor``) its ``ms``, ``images_per_s`` and ``ratio_to_qbheat``.
    """
    table = []
    for img_size in img_sizes:
        for batch_size in batch_sizes:
            result = compare_peers(peers, img_size, batch_size, with_parts=False, **kwargs)
            table.append(dict(
                img_size=img_size, batch_size=batch_size,
                rows={name: {k: row[k] for k in ('ms', 'images_per_s', 'ratio_to_qbheat',
                                                  'paired_ratio_to_qbheat')}
                      for name, row in result['rows'].items()},
                summary=result['summary']))
    return table

