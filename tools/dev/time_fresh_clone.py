"""Time what a newcomer runs, from a fresh clone: ``make setup``, ``make demo``, ``make test``.

    python tools/dev/time_fresh_clone.py --work-dir work_dirs/fresh_clone
    python tools/dev/time_fresh_clone.py --work-dir DIR --steps setup demo   # no suite
    python tools/dev/time_fresh_clone.py --tabulate DIR                      # table again

Clones the repository's committed ``HEAD`` (``--repo``, default this checkout) into a new
folder, runs each step there in order (``make STEP``, ``OMP_NUM_THREADS=2``), writes each
step's output to ``DIR/STEP.log`` and its exit status and seconds to ``DIR/timings.json``,
then ``DIR/results.json`` and ``results.md`` (qbheat_mm.utils.results): the seconds of each
step, the demo's last validation line, the suite's summary line and its slowest tests (as
``make test`` names them). The package caches (pip's, the mmcv wheel in
``~/.cache/qbheat_mm/``) are what the machine has: say which in the results if it matters.
Run it on a quiet machine; another job beside it inflates every number.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from qbheat_mm.utils.results import write_results  # noqa: E402

STEPS = ('setup', 'demo', 'test')
DURATION = re.compile(r'^(\d+\.\d+)s (call|setup|teardown)\s+(\S+)$')
SUMMARY = re.compile(r'^=+ (.*(?:passed|failed).*) in ([\d.]+)s')
PSNR = re.compile(r'recon/psnr_masked: ([\d.]+).*recon/psnr_masked_copy: ([\d.]+).*'
                  r'recon/psnr_masked_flat: ([\d.]+)')


def run_steps(repo: str, steps: list[str], work_dir: str) -> dict:
    """Clone ``repo`` and run ``make STEP`` for each step there; the timings."""
    os.makedirs(work_dir, exist_ok=True)
    clone = tempfile.mkdtemp(prefix='qbheat_fresh_clone_')
    subprocess.run(['git', 'clone', '-q', repo, clone], check=True)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=clone, check=True,
                            capture_output=True, text=True).stdout.strip()
    timings = dict(commit=commit, clone=clone, steps={},
                   started=time.strftime('%Y-%m-%dT%H:%M:%S%z'))
    env = dict(os.environ, OMP_NUM_THREADS='2')
    for step in steps:
        start = time.monotonic()
        with open(osp.join(work_dir, f'{step}.log'), 'w') as log:
            code = subprocess.run(['make', step], cwd=clone, env=env, stdout=log,
                                  stderr=subprocess.STDOUT).returncode
        timings['steps'][step] = dict(returncode=code,
                                      seconds=round(time.monotonic() - start, 1))
        print(f'make {step}: exit {code}, {timings["steps"][step]["seconds"]} s', flush=True)
    with open(osp.join(work_dir, 'timings.json'), 'w') as f:
        json.dump(timings, f, indent=1)
    return timings


def read_log(work_dir: str, step: str) -> list[str]:
    path = osp.join(work_dir, f'{step}.log')
    if not osp.isfile(path):
        return []
    with open(path, errors='replace') as f:
        return f.read().splitlines()


def tabulate(work_dir: str) -> tuple[dict, str]:
    """The result and its markdown, from ``DIR/timings.json`` and the steps' logs."""
    with open(osp.join(work_dir, 'timings.json')) as f:
        timings = json.load(f)
    result = dict(commit=timings['commit'], steps=timings['steps'])
    lines = ['| command | exit status | seconds | what it printed last |', '|---|---|---|---|']
    slowest = []
    for step, timing in timings['steps'].items():
        log = read_log(work_dir, step)
        said = ''
        if step == 'demo':
            psnrs = [m.groups() for line in log for m in [PSNR.search(line)] if m]
            if psnrs:
                masked, copy, flat = (float(v) for v in psnrs[-1])
                said = (f'last validation: masked PSNR {masked:.2f} dB (flat {flat:.2f}, '
                        f'copy {copy:.2f})')
                result['demo'] = dict(psnr_masked=masked, psnr_masked_flat=flat,
                                      psnr_masked_copy=copy)
        if step == 'test':
            found = [SUMMARY.match(line) for line in log]
            found = [m for m in found if m]
            if found:
                said = f'{found[-1].group(1)} in {float(found[-1].group(2)):.0f} s'
                result['suite'] = dict(summary=found[-1].group(1),
                                       seconds=float(found[-1].group(2)))
            slowest = [(float(m.group(1)), m.group(2), m.group(3)) for line in log
                       for m in [DURATION.match(line.strip())] if m]
        lines.append(f'| `make {step}` | {timing["returncode"]} | {timing["seconds"]:.0f} | '
                     f'{said} |')
    result['slowest'] = [dict(seconds=s, phase=p, test=t) for s, p, t in slowest]
    md = (f"A fresh clone of commit `{timings['commit']}`, its steps run in order from "
          f"{timings.get('started', 'an unrecorded time')} (`DIR/timings.json`, "
          f"`DIR/STEP.log`), `OMP_NUM_THREADS=2`.\n\n" + '\n'.join(lines) + '\n')
    if slowest:
        md += ('\n## The slowest tests of `make test`\n\n| seconds | phase | test |\n'
               '|---|---|---|\n')
        md += ''.join(f'| {s:.2f} | {p} | `{t}` |\n' for s, p, t in slowest)
    return result, md


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repo', default=osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), help='the repository to clone (its committed HEAD)')
    parser.add_argument('--steps', nargs='+', choices=STEPS, default=list(STEPS))
    parser.add_argument('--work-dir', help='where the logs and results go')
    parser.add_argument('--tabulate', metavar='DIR',
                        help='write the results again from DIR (nothing is run)')
    args = parser.parse_args(argv)
    if bool(args.work_dir) == bool(args.tabulate):
        parser.error('give --work-dir (run the steps) or --tabulate DIR (nothing run)')
    work_dir = args.tabulate or args.work_dir
    if not args.tabulate:
        run_steps(args.repo, args.steps, work_dir)
    result, md = tabulate(work_dir)
    write_results(work_dir, result, md, 'A fresh clone, timed: set-up, demo and test suite')
    return 0 if all(s['returncode'] == 0 for s in result['steps'].values()) else 1


if __name__ == '__main__':
    sys.exit(main())
