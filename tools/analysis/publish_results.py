"""Copy a finished experiment's tables and plots into the repository, with their provenance.

    python tools/analysis/publish_results.py WORK_DIR docs/results/NAME \
        [--picture PATH ...]

WORK_DIR is the work dir of ``tools/run_experiment.py`` (every ``make`` experiment runs
it) or ``tools/benchmark.py``. Copied to
the destination: ``results.md`` (its links into run directories, which stay behind,
become plain numbers), ``results.json``, ``results.csv`` and the plots, when present, and
each ``--picture`` (a reconstruction picture of one run, say). The top of ``results.md``
names the command, the code's commit, the machine and the time the driver recorded in
``results.json`` (:mod:`qbheat_mm.utils.results`, the one writer of results files); a
work dir whose driver recorded none is refused, since its numbers could not be traced.
Docs quote these files and link to them; they never retype a number.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import re
import shutil

from qbheat_mm.utils.results import PROVENANCE_PREFIX, provenance_paragraph

COPIED = ('results.json', 'results.csv', 'results.png', 'curves.png', 'validation.png')
#: A markdown link whose target is relative (a run directory of the work dir).
LOCAL_LINK = re.compile(r'\[([^\]]+)\]\((?![a-z]+://|#)[^)]*\)')


PUBLISHED = ('Published by `tools/analysis/publish_results.py`; run directories stay in '
             'the work dir.')


def publish(work_dir: str, dest: str, pictures: list[str] = ()) -> list[str]:
    """Copy the experiment of ``work_dir`` to ``dest``; returns the files written."""
    results = osp.join(work_dir, 'results.json')
    if not osp.isfile(results):
        raise FileNotFoundError(f'{results} not found: is {work_dir} the work dir of a '
                                'finished experiment (run it, or --report-only)?')
    with open(results) as f:
        record = json.load(f).get('provenance')
    if not record:
        raise ValueError(f'{results} records no provenance (command, commit): rerun its '
                         'driver with --report-only to rewrite it, then publish')
    os.makedirs(dest, exist_ok=True)
    written = []
    with open(osp.join(work_dir, 'results.md')) as f:
        table = LOCAL_LINK.sub(r'\1', f.read())
    title, _, body = table.partition('\n\n')
    if body.startswith(PROVENANCE_PREFIX):  # written by qbheat_mm.utils.results: replaced
        body = body.partition('\n\n')[2]
    with open(osp.join(dest, 'results.md'), 'w') as f:
        f.write(f'{title}\n\n{provenance_paragraph(record)} {PUBLISHED}\n\n{body}')
    written.append(osp.join(dest, 'results.md'))
    for name in COPIED:
        if osp.isfile(osp.join(work_dir, name)):
            shutil.copy(osp.join(work_dir, name), osp.join(dest, name))
            written.append(osp.join(dest, name))
    for picture in pictures:
        if not osp.isfile(picture):
            raise FileNotFoundError(f'--picture {picture}: no such file')
        target = osp.join(dest, osp.basename(picture))
        shutil.copy(picture, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir', help='work dir of a finished experiment')
    parser.add_argument('dest', help='where to publish (docs/results/NAME)')
    parser.add_argument('--picture', nargs='+', default=[],
                        help='pictures to publish beside the tables')
    args = parser.parse_args(argv)
    written = publish(args.work_dir, args.dest, args.picture)
    print('\n'.join(written))
    return written


if __name__ == '__main__':
    main()
