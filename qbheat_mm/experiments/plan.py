"""A plan file, read and checked: its rows, its evaluations, their columns.

A plan (``configs/experiments/*.py``) is a list of **rows** (``pretrainings``), each a
training run of a config (or none: the random init), and the **evaluations** every row
gets, over **seeds**:

- a row: ``dict(name, label, config, cfg_options=[], minutes=None, images=None,
  backbone='default', axes={})``. A budget replaces the config's length: ``images`` (the
  images the run sees; ``train_cfg.max_iters`` = images / batch) or ``minutes`` (wall
  clock; a ``calibrate`` stage times the step first). ``axes`` labels the row's place in a
  grid (``operator='frozen'``), which ``contrast`` reads;
- an evaluation: ``dict(name, label, kind, config, metric, scale=1.0, digits=1,
  cfg_options=[], random_cfg_options=[], optional=False)``. ``kind`` is ``'train'`` (a
  frozen-backbone probe or detector trained by ``tools/train.py``; its last ``metric``),
  ``'knn'`` (``tools/analysis/knn_eval.py``), ``'features'`` (the converged probes of
  ``tools/analysis/feature_probes.py``: one column per probe, layer and BatchNorm regime
  of its config's ``probe_protocol``) or ``'validation'`` (the row's own last validation:
  ``metric`` and the ``also`` metrics; without a ``metric``, the honest masked PSNR of a
  QB-Heat run and its trivial baselines). ``config``
  may be a dict from a row's ``backbone`` to a config: a row whose backbone has none is
  not evaluated there;
- ``cfg_options``: overrides for every row's pre-training, before the row's own (a
  plan-wide setting, such as the data every row's monitor reads);
- ``reference`` (a row: it minus every other row) and/or ``contrast=dict(axis, minus)``
  (every row minus its twin whose ``axes[axis]`` is ``minus``, the other axes equal): the
  table of differences, each against the seed spread of both rows.

An **ablation** plan is the short form of a grid of QB-Heat variants of one config:
``config``, ``scopes``, ``operators``, ``modes`` (and ``cfg_options`` for every run)
become one row per variant, evaluated by its own validation, with ``contrast =
dict(axis='operator', minus='frozen')``.
"""
from __future__ import annotations

import itertools
import os.path as osp

from qbheat_mm.utils.runs import REPO

__all__ = ['abs_path', 'read_plan', 'check_plan', 'select_evaluations', 'columns',
           'names_of', 'config_for', 'ABLATION_AXES']

#: The ablation grid's axes, their values and the overrides each value stands for.
ABLATION_AXES = {
    'scope': {v: [f'model.decoder.scope={v}'] for v in ('quarter', 'global')},
    'operator': {'learned': ['model.neck.freeze_operator=False'],
                 'frozen': ['model.neck.freeze_operator=True']},
    'mode': {v: [f'model.neck.mode={v}'] for v in ('block', 'recursive', 'finola', 'free')},
}
#: What an ablation's rows are scored by: the run's own last validation.
RECON_METRIC = 'recon/psnr_masked'
RECON_ALSO = ('recon/psnr_masked_copy', 'recon/psnr_masked_flat', 'recon/psnr_masked_gain',
              # logged on the known-answer control only: its exact answer, and the best
              # a frozen operator (one prediction shared by the quarters) can reach
              'recon/psnr_masked_known', 'recon/psnr_masked_shared')
KINDS = ('train', 'knn', 'features', 'validation')


def abs_path(path: str) -> str:
    """``path``, relative to the repository root unless absolute."""
    return path if osp.isabs(path) else osp.join(REPO, path)


def read_plan(path: str, options: dict | None = None) -> dict:
    """A plan file as a plain dict, ``options`` (``--plan-options``) merged in."""
    from mmengine.config import Config

    if not osp.isfile(path):
        raise FileNotFoundError(f'plan file not found: {path}')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return cfg.to_dict()


def _ablation_rows(cfg: dict, path: str) -> tuple[list[dict], list[dict]]:
    """The rows and evaluation of an ablation plan's grid."""
    config = cfg.get('config')
    if not config:
        raise ValueError(f'{path} needs a `config`: the QB-Heat config every run trains')
    grid = {}
    for axis, key, default in (('scope', 'scopes', ['quarter']),
                               ('operator', 'operators', ['learned', 'frozen']),
                               ('mode', 'modes', ['block'])):
        values = list(cfg.get(key, default))
        allowed = tuple(ABLATION_AXES[axis])
        if not values or set(values) - set(allowed):
            raise ValueError(f'{path}: `{key}` must be a non-empty list of {allowed}, got '
                             f'{values}')
        grid[axis] = values
    rows = []
    for values in itertools.product(*grid.values()):
        axes = dict(zip(grid, values))
        options = [o for axis, v in axes.items() for o in ABLATION_AXES[axis][v]]
        rows.append(dict(name='_'.join(values), label=' / '.join(values), config=config,
                         cfg_options=options + list(cfg.get('cfg_options', [])),
                         axes=axes))
    return rows, [dict(name='recon', kind='validation')]


def check_plan(cfg: dict, path: str) -> dict:
    """The plan (see the module's docstring), checked; plain dicts."""
    kind = cfg.get('type') or ('comparison' if 'pretrainings' in cfg
                               else 'ablation' if 'config' in cfg else None)
    if kind not in ('ablation', 'comparison'):
        raise ValueError(f"{path}: `type` must be one of ['ablation', 'comparison'], got "
                         f'{kind!r}')
    if kind == 'ablation':
        rows, evaluations = _ablation_rows(cfg, path)
        contrast = dict(axis='operator', minus='frozen')
    else:
        shared = list(cfg.get('cfg_options', []))
        rows = [dict(p, cfg_options=shared + list(p.get('cfg_options', [])))
                for p in cfg.get('pretrainings', [])]
        evaluations = [dict(e) for e in cfg.get('evaluations', [])]
        contrast = cfg.get('contrast')
    plan = dict(type=kind, pretrainings=rows, evaluations=evaluations,
                launcher=dict(cfg.get('launcher', dict(type='local'))),
                seeds=list(cfg.get('seeds', [0])), title=cfg.get('title', osp.basename(path)),
                reference=cfg.get('reference'), contrast=contrast,
                budget=cfg.get('budget'))
    if not rows or not evaluations:
        raise ValueError(f'{path} needs non-empty `pretrainings` and `evaluations` lists')
    for what, entries in (('pretrainings', rows), ('evaluations', evaluations)):
        names = [e.get('name') for e in entries]
        if None in names or len(set(names)) != len(names):
            raise ValueError(f'every entry of `{what}` in {path} needs a unique `name`, '
                             f'got {names}')
    for p in rows:
        _check_row(p, path)
    for e in evaluations:
        _check_evaluation(e, path)
    if plan['reference'] is not None and plan['reference'] not in names_of(plan):
        raise ValueError(f"reference {plan['reference']!r} is not a pre-training of "
                         f'{path} ({names_of(plan)})')
    if contrast is not None:
        if set(contrast) != {'axis', 'minus'}:
            raise ValueError(f'{path}: contrast must be dict(axis=..., minus=...), got '
                             f'{contrast}')
        if not any(p['axes'].get(contrast['axis']) == contrast['minus'] for p in rows):
            raise ValueError(f"{path}: contrast minus {contrast['minus']!r}, but no row has "
                             f"axes[{contrast['axis']!r}] = {contrast['minus']!r}")
    launcher = plan['launcher']
    if launcher.get('type') not in ('local', 'dist', 'slurm'):
        raise ValueError(f"launcher.type must be 'local', 'dist' or 'slurm', got "
                         f"{launcher.get('type')!r}")
    if launcher['type'] == 'slurm' and not launcher.get('partition'):
        raise ValueError('a slurm launcher needs launcher.partition')
    return plan


def _check_row(p: dict, path: str) -> None:
    p.setdefault('label', p['name'])
    p['cfg_options'] = list(p.get('cfg_options', []))
    p['axes'] = dict(p.get('axes', {}))
    p.setdefault('backbone', 'default')
    for key in ('minutes', 'images'):
        value = p.setdefault(key, None)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"pre-training {p['name']!r}: {key} must be a positive "
                             f'number (the budget) or None, got {value!r}')
        if value is not None and p.get('config') is None:
            raise ValueError(f"pre-training {p['name']!r} has a budget ({key}) but no "
                             'config: the random row has nothing to train')
    if p['minutes'] is not None and p['images'] is not None:
        raise ValueError(f"pre-training {p['name']!r}: give a budget in minutes or in "
                         'images, not both')
    if p.get('config') is not None and not osp.isfile(abs_path(p['config'])):
        raise FileNotFoundError(f"pre-training {p['name']!r}: config not found: "
                                f"{p['config']}")


def _check_evaluation(e: dict, path: str) -> None:
    e.setdefault('kind', 'train')
    if e['kind'] == 'validation' and 'metric' not in e:  # the honest masked PSNR
        e.update(label=e.get('label', 'masked PSNR (dB)'), metric=RECON_METRIC,
                 also=e.get('also', list(RECON_ALSO)), digits=e.get('digits', 2))
    e.setdefault('label', e['name'])
    e.setdefault('scale', 1.0)
    e.setdefault('digits', 1)
    e['cfg_options'] = list(e.get('cfg_options', []))
    e['random_cfg_options'] = list(e.get('random_cfg_options', []))
    e['optional'] = bool(e.get('optional', False))
    e['also'] = list(e.get('also', []))
    if e['kind'] not in KINDS:
        raise ValueError(f"evaluation {e['name']!r}: kind must be one of {list(KINDS)}, "
                         f"got {e['kind']!r}")
    if e['kind'] == 'features':
        if 'config' not in e:
            raise ValueError(f"evaluation {e['name']!r} needs a `config` (a feature-probe "
                             'config with a probe_protocol)')
        from qbheat_mm.evaluation.probe_protocol import protocol_columns
        configs = e['config'] if isinstance(e['config'], dict) else {'default': e['config']}
        _check_configs(e, configs)
        per_config = {b: protocol_columns(abs_path(c)) for b, c in configs.items()}
        first = next(iter(per_config.values()))
        for backbone, found in per_config.items():
            if found['metrics'] != first['metrics']:
                raise ValueError(f"evaluation {e['name']!r}: the configs of {backbone!r} and "
                                 f"{next(iter(per_config))!r} probe different columns")
        e.update(first)  # metrics, headline, facets
        return
    if 'metric' not in e:
        raise ValueError(f"evaluation {e['name']!r} needs a `metric` (the logged key, "
                         "e.g. 'accuracy/top1' or 'coco/bbox_mAP')")
    if e['kind'] != 'validation':
        if 'config' not in e:
            raise ValueError(f"evaluation {e['name']!r} needs a `config`")
        _check_configs(e, e['config'] if isinstance(e['config'], dict)
                       else {'default': e['config']})


def _check_configs(e: dict, configs: dict) -> None:
    for config in configs.values():
        if not osp.isfile(abs_path(config)):
            raise FileNotFoundError(f"evaluation {e['name']!r}: config not found: {config}")


def config_for(ev: dict, row: dict) -> str | None:
    """The config of evaluation ``ev`` for ``row``'s backbone, or None (not evaluated)."""
    config = ev.get('config')
    if isinstance(config, dict):
        return config.get(row.get('backbone', 'default'))
    return config


def names_of(plan: dict) -> list[str]:
    return [p['name'] for p in plan['pretrainings']]


def select_evaluations(plan: dict, wanted: list[str] | None) -> dict:
    """The plan with its optional evaluations kept only where ``wanted`` names them."""
    wanted = list(wanted or [])
    optional = [e['name'] for e in plan['evaluations'] if e['optional']]
    unknown = sorted(set(wanted) - set(optional))
    if unknown:
        raise ValueError(f'--with {unknown}: not an optional evaluation of the plan '
                         f'(optional: {optional or "none"})')
    kept = [e for e in plan['evaluations'] if not e['optional'] or e['name'] in wanted]
    return dict(plan, evaluations=kept)


def columns(plan: dict, headline_only: bool = False) -> list[dict]:
    """The table's columns: ``dict(key, label, evaluation, metric, scale, digits)`` for
    each value an evaluation reports (one, or one per probe, layer and regime of a
    ``features`` evaluation; its ``headline`` ones only with ``headline_only``)."""
    out = []
    for ev in plan['evaluations']:
        if ev['kind'] == 'features':
            keys = ev['headline'] if headline_only else ev['metrics']
            out += [dict(key=f"{ev['name']}/{m}", label=ev['labels'][m], evaluation=ev['name'],
                         metric=m, scale=ev['scale'], digits=ev['digits']) for m in keys]
            continue
        out.append(dict(key=ev['name'], label=ev['label'], evaluation=ev['name'],
                        metric=None, scale=ev['scale'], digits=ev['digits']))
        if not headline_only:
            out += [dict(key=f"{ev['name']}/{m}", label=m.rsplit('_', 1)[-1],
                         evaluation=ev['name'], metric=m, scale=ev['scale'],
                         digits=ev['digits']) for m in ev['also']]
    return out
