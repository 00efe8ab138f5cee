"""Experiments as plan files, run by one engine (``tools/run_experiment.py``).

A plan (a Python config under ``configs/experiments/``) lists rows, each a training run of
a config or the random init, and the evaluations every row gets, over seeds
(:mod:`.plan`). A comparison of pre-trainings and an ablation grid of QB-Heat variants
are the same thing to the engine: an ablation is a plan whose rows are grid variants,
evaluated by their own validation, with differences taken along a named axis.

Split by concern: :mod:`.plan` (reading and checking a plan), :mod:`.launch` (the
commands under a local, dist or slurm launcher), :mod:`.stages` (each row's stages, run
resumably, and the run of a plan), :mod:`.readers` (stage records, logged values, the
finished rows of an earlier ``results.json``), :mod:`.table` (values over seeds,
differences against the spread, results files) and :mod:`.plots`.

Every stage runs in its own process and folder, a rerun continues where the last one
stopped, ``--runs-from`` takes the finished rows of an earlier (published) results file so
a study can span sessions, and a dry run prints every command. Experiments drive
``tools/train.py`` and the other tools of a source checkout.
"""
from __future__ import annotations

from .launch import StageFailed
from .plan import check_plan, read_plan
from .stages import run

__all__ = ['StageFailed', 'load_plan', 'run_plan']


def load_plan(path: str, options: dict | None = None) -> dict:
    """Read and check the plan file ``path`` (``options`` merged in); plain values."""
    return check_plan(read_plan(path, options), path)


def run_plan(plan: dict, work_dir: str, command: list[str], **kwargs):
    """Run ``plan`` in ``work_dir`` (see :func:`.stages.run` for ``kwargs``); ``command``
    is what the results record as the command that made them."""
    return run(plan, work_dir, command, **kwargs)
