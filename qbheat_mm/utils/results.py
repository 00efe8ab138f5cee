"""The one writer of results files: ``results.json`` and ``results.md``.

Every experiment (``tools/run_experiment.py``), every benchmark (``tools/benchmark.py``)
and the publisher (``tools/analysis/publish_results.py``, which copies a work dir's
results into ``docs/results/``) write through here, in one layout:

- ``results.json``: the result, with ``provenance`` (the command, the time, the machine,
  the versions and the commit: :func:`~qbheat_mm.utils.provenance.provenance`);
- ``results.md``: ``# title``, one paragraph naming that provenance
  (:func:`provenance_paragraph`), then the tables.

The docs quote ``results.md`` without its title and provenance paragraph
(``docs/quote_results.py``), so a number has one home.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Optional, Sequence

from qbheat_mm.utils.provenance import provenance, results_provenance

__all__ = ['PROVENANCE_PREFIX', 'provenance_paragraph', 'write_results']

#: How the provenance paragraph of every results.md starts.
PROVENANCE_PREFIX = 'Made by `'


def provenance_paragraph(record: dict) -> str:
    """One paragraph naming the command, commit, time, machine and stack of ``record``
    (a ``provenance`` entry of a results.json)."""
    env = record.get('environment', {})
    machine = record.get('machine', {})
    threads = machine.get('threads') or 'unset'
    text = (f"{PROVENANCE_PREFIX}{record['command']}` at commit "
            f"`{env.get('git commit', 'unknown')}`, written {record.get('written', '?')}, on "
            f"{machine.get('cores', '?')} {machine.get('processor', '')} cores "
            f"(OMP_NUM_THREADS={threads}), torch {env.get('torch', '?')}, mmpretrain "
            f"{env.get('mmpretrain', '?')}.")
    reported = record.get('reported')
    if reported:
        text += (f" Tabulated again by `{reported['command']}` at commit "
                 f"`{reported.get('environment', {}).get('git commit', 'unknown')}`.")
    return text


def write_results(work_dir: str, result: dict, markdown: str, title: str,
                  argv: Optional[Sequence[str]] = None,
                  report_only: bool = False) -> tuple[str, str]:
    """Write ``result`` with its provenance to ``work_dir/results.json`` and
    ``markdown`` under ``title`` and the provenance paragraph to ``work_dir/results.md``;
    returns both paths.

    ``argv`` is the command that made the result (default: this process's). With
    ``report_only`` (a table rebuilt from finished runs, nothing run) the provenance of
    the results.json already there is kept, this call's added as ``reported``.
    """
    os.makedirs(work_dir, exist_ok=True)
    json_path, md_path = osp.join(work_dir, 'results.json'), osp.join(work_dir, 'results.md')
    record = (results_provenance(json_path, argv, report_only) if argv is not None
              else provenance())
    tmp = json_path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(dict(result, provenance=record), f, indent=2)
    os.replace(tmp, json_path)
    with open(md_path, 'w') as f:
        f.write(f'# {title}\n\n{provenance_paragraph(record)}\n\n{markdown.strip()}\n')
    return json_path, md_path
