"""Converged probes of a frozen backbone: features extracted once, then linear, tran-1 and
k-NN probes at every layer and BatchNorm regime of the config's protocol.

    python tools/analysis/feature_probes.py CONFIG (--checkpoint CKPT | --random)
        --work-dir DIR [--seed 0] [--device cpu] [--cfg-options k=v ...] [--allow-pickle]

CONFIG is a feature-probe config (``configs/probing/feature-probes_*.py``): a frozen
backbone (``model.backbone``, with its data preprocessor), ``probe_data`` (the ``train``
and ``val`` datasets, un-augmented) and ``probe_protocol``
(:mod:`qbheat_mm.evaluation.probe_protocol`). CKPT (a pre-training checkpoint or an
extracted backbone) loads strictly; ``--random`` is the random init drawn with
``--seed``, which also seeds the probes (folds, held-out part, initialisations).

For every regime (:mod:`qbheat_mm.evaluation.features`: the saved BatchNorm statistics,
statistics recalibrated on the train images, or the saved ones on the four quarters) the
maps of every layer of the train and val images are extracted once and cached in
``DIR/features.pt`` (tensors only; a rerun with the same checkpoint and protocol reuses
it). Then each probe runs on the cache: the L-BFGS logistic regression with its L2
strength cross-validated on train, the early-stopped tran-1 head, and k-NN on raw and on
standardised features. Written to DIR: ``probe_results.json`` (every top-1, the evidence
of convergence of every probe, the protocol, the checkpoint, the seconds taken).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import os.path as osp
import time

import torch

import qbheat_mm  # noqa: F401  (registration and compat patches before the config is read)
from qbheat_mm.apis import init_model
from qbheat_mm.evaluation.features import extract_maps, recalibrate_bn
from qbheat_mm.evaluation.probe_protocol import check_protocol, run_probes
from qbheat_mm.engine.cli import add_checkpoint_or_random, add_common_args, load_config
from qbheat_mm.utils.quiet import init_weights_quietly

CACHE = 'features.pt'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='feature-probe config (with probe_protocol)')
    add_checkpoint_or_random(parser, 'the random-init control, drawn with --seed')
    parser.add_argument('--seed', type=int, default=0,
                        help='draws the random init and seeds the probes')
    parser.add_argument('--device', default='cpu', help='where the backbone runs')
    add_common_args(parser)
    return parser.parse_args(argv)


def _batches(cfg, split: str, device: str) -> tuple[list[torch.Tensor], torch.Tensor, int]:
    """The preprocessed images of ``probe_data[split]`` in batches, their labels and the
    number of classes."""
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS, MODELS
    from torch.utils.data import DataLoader

    dataset = DATASETS.build(cfg.probe_data[split])
    loader = DataLoader(dataset, batch_size=cfg.probe_data.get('batch_size', 64),
                        shuffle=False, num_workers=0, collate_fn=pseudo_collate)
    preprocessor = MODELS.build(cfg.model.data_preprocessor).to(device)
    inputs, labels = [], []
    for batch in loader:
        data = preprocessor(batch, False)
        inputs.append(data['inputs'])
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]).cpu())
    if not inputs:
        raise ValueError(f'probe_data.{split} of {cfg.filename} is empty')
    classes = dataset.metainfo.get('classes')
    return inputs, torch.cat(labels), len(classes) if classes else int(torch.cat(labels).max()) + 1


def extract(cfg, protocol: dict, checkpoint: str | None, seed: int, device: str) -> dict:
    """The cache: ``{split: dict(labels, maps={'LAYER/REGIME': N x C x h x w})}``."""
    indices = sorted(set(protocol['layers'].values()))
    positions = {name: indices.index(i) for name, i in protocol['layers'].items()}
    cfg.model.backbone.out_indices = tuple(indices)
    torch.manual_seed(seed)
    backbone = init_model(cfg, checkpoint, device=device, backbone_only=True)
    if checkpoint is None:
        init_weights_quietly(backbone)  # the class's own init (Mobile-Former: the reference one)
    backbone.eval()
    splits = {split: _batches(cfg, split, device) for split in ('train', 'val')}
    features = {split: dict(labels=labels, maps={}) for split, (_, labels, _) in splits.items()}
    features['num_classes'] = splits['train'][2]
    for regime in protocol['regimes']:
        model = backbone
        if regime == 'recalibrated':
            model = copy.deepcopy(backbone)
            recalibrate_bn(model, splits['train'][0])
        for split, (inputs, _, _) in splits.items():
            maps = extract_maps(model, inputs, [positions[n] for n in protocol['layers']],
                                quarters=regime == 'quarters')
            for name, m in zip(protocol['layers'], maps):
                features[split]['maps'][f'{name}/{regime}'] = m
    return features


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args, dataloaders=())  # it reads probe_data
    for key in ('probe_protocol', 'probe_data'):
        if key not in cfg:
            raise ValueError(f'{args.config} has no {key}: is it a feature-probe config '
                             '(configs/probing/feature-probes_*.py)?')
    protocol = check_protocol(cfg.probe_protocol.to_dict(), args.config)
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    os.makedirs(cfg.work_dir, exist_ok=True)
    start = time.time()
    key = dict(checkpoint=osp.abspath(args.checkpoint) if args.checkpoint else None,
               seed=None if args.checkpoint else args.seed, layers=protocol['layers'],
               regimes=protocol['regimes'], config=osp.abspath(args.config))
    cache = osp.join(cfg.work_dir, CACHE)
    features = None
    if osp.isfile(cache):
        saved = torch.load(cache, weights_only=True)
        if saved.get('key') == json.dumps(key, sort_keys=True):
            features = saved['features']
            print(f'features read from {cache}')
    if features is None:
        features = extract(cfg, protocol, args.checkpoint, args.seed, args.device)
        torch.save(dict(key=json.dumps(key, sort_keys=True), features=features),
                   cache + '.tmp')
        os.replace(cache + '.tmp', cache)
    extracted = time.time() - start
    results = run_probes(features, protocol, features['num_classes'], seed=args.seed)
    record = dict(results, checkpoint=args.checkpoint, seed=args.seed, protocol=protocol,
                  images={split: len(features[split]['labels']) for split in ('train', 'val')},
                  seconds=dict(features=extracted, probes=time.time() - start - extracted))
    with open(osp.join(cfg.work_dir, 'probe_results.json'), 'w') as f:
        json.dump(record, f, indent=2)
    print(json.dumps(results['metrics'], indent=2))
    return record


if __name__ == '__main__':
    main()
