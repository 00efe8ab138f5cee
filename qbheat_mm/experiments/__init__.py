"""Experiments as plan files, run by one tool (``tools/run_experiment.py``).

A plan (a Python config under ``configs/experiments/``) says what to run and how to
tabulate it; its ``type`` picks the kind:

- ``'comparison'`` (:mod:`.comparison`): pre-trainings of one backbone, each followed by
  the same frozen-backbone evaluations, over seeds (the laptop comparison and study, the
  decoder ablation's probes, the paper-scale plan);
- ``'ablation'`` (:mod:`.ablation`): a grid of QB-Heat variants of one config (learned or
  frozen operator, decoder scope, neck mode) over seeds (the heat-operator ablations and
  the known-answer control).

Both run every unfinished stage in its own process with its own work dir, resume what was
interrupted, take finished runs of an earlier ``results.json`` (``runs_from``) so a study
can span sessions, print their commands on a dry run, and write ``results.json`` (with the
command, commit and machine), ``results.md`` and plots.

Experiments drive ``tools/train.py`` and the other tools of a source checkout.
"""
from __future__ import annotations

from . import ablation, comparison
from .common import read_plan

__all__ = ['PLAN_TYPES', 'load_plan', 'run_plan']

PLAN_TYPES = {'comparison': comparison, 'ablation': ablation}


def load_plan(path: str, options: dict | None = None) -> dict:
    """Read and check the plan file ``path`` (``options`` merged in); plain values."""
    cfg = read_plan(path, options)
    # Without a `type`: a comparison if it lists pre-trainings, an ablation if it names a
    # config.
    kind = cfg.get('type') or ('comparison' if 'pretrainings' in cfg
                               else 'ablation' if 'config' in cfg else None)
    if kind not in PLAN_TYPES:
        raise ValueError(f'{path}: `type` must be one of {sorted(PLAN_TYPES)}, got {kind!r}')
    return PLAN_TYPES[kind].check_plan(cfg, path)


def run_plan(plan: dict, work_dir: str, command: list[str], **kwargs):
    """Run ``plan`` in ``work_dir`` (see the kinds' ``run`` for ``kwargs``); ``command``
    is what the results record as the command that made them."""
    return PLAN_TYPES[plan['type']].run(plan, work_dir, command, **kwargs)
