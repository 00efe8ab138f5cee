"""The one writer of benchmark results: ``results.json`` (the result, with the command,
the commit, the machine and the versions) and ``results.md`` (the title, the same
provenance in words, the table), in the layout ``tools/analysis/publish_results.py``
publishes to ``docs/results/`` like every experiment's."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Optional, Sequence

from qbheat_mm.utils.provenance import provenance

__all__ = ['write_report']


def write_report(result: dict, markdown: str, title: str, work_dir: str,
                 argv: Optional[Sequence[str]] = None) -> tuple[str, str]:
    """Write ``result`` (with :func:`~qbheat_mm.utils.provenance.provenance` of ``argv``)
    to ``work_dir/results.json`` and ``markdown`` under ``title`` to
    ``work_dir/results.md``; returns both paths."""
    os.makedirs(work_dir, exist_ok=True)
    record = dict(result, provenance=provenance(argv))
    json_path, md_path = osp.join(work_dir, 'results.json'), osp.join(work_dir, 'results.md')
    with open(json_path, 'w') as f:
        json.dump(record, f, indent=2)
    env, machine = record['provenance']['environment'], record['provenance']['machine']
    with open(md_path, 'w') as f:
        f.write(f'# {title}\n\n{markdown}\n\nMeasured on {machine["cores"]} '
                f'{machine["processor"]} cores, torch {env.get("torch", "?")}, commit '
                f'`{env.get("git commit", "unknown")}`.\n')
    return json_path, md_path
