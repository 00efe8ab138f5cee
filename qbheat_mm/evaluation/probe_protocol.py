"""The converged-probe protocol: which probes, layers and BatchNorm regimes a feature-probe
config asks for, running them on extracted features, and reading their results.

A feature-probe config (``configs/probing/feature-probes_*.py``, run by
``tools/analysis/feature_probes.py``) holds ``probe_data`` (the ``train`` and ``val``
datasets) and ``probe_protocol``:

- ``layers``: name -> the backbone's output index (e.g. ``last=4``: Mobile-Former's
  expanded map), with ``layer_labels`` in words;
- ``regimes``: a subset of :data:`~qbheat_mm.evaluation.features.REGIMES`;
- ``probes``: a subset of :data:`PROBES`;
- ``headline``: ``dict(layer, regime)``, fixed before any result it heads;
- ``linear`` (:func:`~qbheat_mm.evaluation.linear_probe.linear_probe`: ``l2_grid``,
  ``folds``, ``max_iter``, ``tol``), ``tran1``
  (:func:`~qbheat_mm.evaluation.tran1_probe.tran1_probe`) and ``knn`` (``k``,
  ``temperature``) settings.

Every result is named ``PROBE/LAYER/REGIME`` (``linear/last/recalibrated``) and scored
on ``val`` once; nothing is chosen on it.
"""
from __future__ import annotations

import json
import os.path as osp

import torch

from .features import REGIMES
from qbheat_mm.models.utils.knn import knn_scores, top1
from .linear_probe import linear_probe, standardise
from .tran1_probe import tran1_probe

__all__ = ['PROBES', 'PROBE_LABELS', 'check_protocol', 'protocol_columns', 'run_probes',
           'read_probe_results', 'evidence_summary']

PROBES = ('linear', 'tran1', 'knn', 'knn_std')
PROBE_LABELS = dict(linear='linear top-1', tran1='tran-1 top-1', knn='k-NN top-1',
                    knn_std='k-NN top-1, standardised')
REQUIRED = ('layers', 'regimes', 'probes', 'headline', 'linear', 'tran1', 'knn')


def check_protocol(protocol: dict, where: str) -> dict:
    """``protocol`` (a config's ``probe_protocol``) checked; plain values."""
    protocol = dict(protocol)
    missing = [k for k in REQUIRED if k not in protocol]
    if missing:
        raise ValueError(f'{where}: probe_protocol lacks {missing} (see '
                         'qbheat_mm/evaluation/probe_protocol.py)')
    for key, allowed in (('regimes', REGIMES), ('probes', PROBES)):
        values = list(protocol[key])
        if not values or set(values) - set(allowed):
            raise ValueError(f'{where}: probe_protocol.{key} must be a non-empty list of '
                             f'{list(allowed)}, got {values}')
        protocol[key] = values
    layers = dict(protocol['layers'])
    if not layers or not all(isinstance(v, int) for v in layers.values()):
        raise ValueError(f'{where}: probe_protocol.layers must map names to the backbone\'s '
                         f'output indices, got {layers}')
    protocol['layers'] = layers
    head = dict(protocol['headline'])
    if head.get('layer') not in layers or head.get('regime') not in protocol['regimes']:
        raise ValueError(f'{where}: probe_protocol.headline must name one of the layers '
                         f'{list(layers)} and one of the regimes {protocol["regimes"]}, '
                         f'got {head}')
    protocol['headline'] = head
    protocol.setdefault('layer_labels', {k: k for k in layers})
    return protocol


def protocol_columns(config: str) -> dict:
    """What a feature-probe config reports: its ``metrics`` (every probe, layer and
    regime), the ``headline`` ones, ``labels`` and ``facets`` (for the tables)."""
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    if 'probe_protocol' not in cfg:
        raise ValueError(f'{config} has no probe_protocol: is it a feature-probe config '
                         '(configs/probing/feature-probes_*.py)?')
    p = check_protocol(cfg.probe_protocol.to_dict(), config)
    metrics = [f'{probe}/{layer}/{regime}' for probe in p['probes'] for layer in p['layers']
               for regime in p['regimes']]
    head = p['headline']
    headline = [f"{probe}/{head['layer']}/{head['regime']}" for probe in p['probes']]
    labels = {m: (PROBE_LABELS[m.split('/')[0]] if m in headline
                  else f"{PROBE_LABELS[m.split('/')[0]]} ({m.split('/')[1]}, "
                  f"{m.split('/')[2]})") for m in metrics}
    description = ', '.join(f'`{k}` = {v}' for k, v in p['layer_labels'].items())
    return dict(metrics=metrics, headline=headline, labels=labels,
                facets=dict(probes=p['probes'], layers=list(p['layers']),
                            regimes=p['regimes'], headline_layer=head['layer'],
                            headline_regime=head['regime'], probe_labels=PROBE_LABELS,
                            description=description))


def run_probes(features: dict, protocol: dict, num_classes: int, seed: int = 0,
               log=print) -> dict:
    """Every probe of ``protocol`` at every layer and regime of ``features``
    (``features[split]['maps']['LAYER/REGIME']``, ``features[split]['labels']``);
    returns ``dict(metrics={name: top-1}, evidence={name: record})``."""
    metrics, evidence = {}, {}
    train_y = features['train']['labels'].numpy()
    val_y = features['val']['labels'].numpy()
    for layer in protocol['layers']:
        for regime in protocol['regimes']:
            train_maps = features['train']['maps'][f'{layer}/{regime}'].float()
            val_maps = features['val']['maps'][f'{layer}/{regime}'].float()
            train_x = train_maps.mean(dim=(2, 3)).double().numpy()
            val_x = val_maps.mean(dim=(2, 3)).double().numpy()
            for probe in protocol['probes']:
                name = f'{probe}/{layer}/{regime}'
                if probe == 'linear':
                    record = linear_probe(train_x, train_y, val_x, val_y, num_classes,
                                          seed=seed, **protocol['linear'])
                elif probe == 'tran1':
                    record = tran1_probe(train_maps, train_y, val_maps, val_y, num_classes,
                                         seed=seed, **protocol['tran1'])
                else:
                    bank, query = ((train_x, val_x) if probe == 'knn'
                                   else standardise(train_x, val_x))
                    scores = knn_scores(torch.from_numpy(bank), torch.from_numpy(train_y),
                                        torch.from_numpy(query), num_classes,
                                        **protocol['knn'])
                    record = dict(top1=top1(scores, torch.from_numpy(val_y)))
                metrics[name] = record['top1']
                evidence[name] = record
                log(f'{name}: {record["top1"]:.2f}')
    return dict(metrics=metrics, evidence=evidence)


def read_probe_results(path: str) -> dict:
    """A ``probe_results.json`` of ``tools/analysis/feature_probes.py``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: did tools/analysis/feature_probes.py '
                                'finish?')
    with open(path) as f:
        return json.load(f)


def evidence_summary(plan: dict, rows: list[dict]) -> list[str]:
    """Lines for a results table: for each ``features`` evaluation, the convergence of
    its linear probes (final gradient, iterations, chosen L2, grid edges) and the length
    of its tran-1 trainings, over every row and seed."""
    lines = []
    for ev in [e for e in plan['evaluations'] if e['kind'] == 'features']:
        records = [(name, rec) for r in rows for name, rec in
                   r['stages'].get(ev['name'], {}).get('evidence', {}).items()]
        linear = [rec for name, rec in records if name.startswith('linear/')]
        tran1 = [rec for name, rec in records if name.startswith('tran1/')]
        if not linear and not tran1:
            continue
        lines.append(f"Evidence that the probes of {ev['label']} converged, over every row, "
                     'seed, layer and regime:')
        lines.append('')
        if linear:
            l2s = sorted({rec['l2'] for rec in linear})
            lines.append(
                f'- linear: {sum(r["converged"] for r in linear)} of {len(linear)} final fits '
                f'met the gradient tolerance (largest final gradient component '
                f'{max(r["grad_max"] for r in linear):.1e}, at most '
                f'{max(r["iterations"] for r in linear)} L-BFGS iterations); L2 chosen by '
                f'cross-validation on the training split: {", ".join(f"{v:g}" for v in l2s)}'
                f'; {sum(r["at_grid_edge"] for r in linear)} at an edge of the grid; '
                f'{sum(r["cv_unconverged"] for r in linear)} of '
                f'{sum(r["cv_fits"] for r in linear)} cross-validation fits hit the '
                'iteration cap.')
        if tran1:
            lines.append(
                f'- tran-1: best held-out epoch {min(r["best_epoch"] for r in tran1)} to '
                f'{max(r["best_epoch"] for r in tran1)}; stopped by patience in '
                f'{sum(r["stopped"] == "patience" for r in tran1)} of {len(tran1)} trainings '
                f'(the others at the epoch cap, {max(r["epochs"] for r in tran1)} epochs at '
                'most).')
    return lines
