"""Run the hosts' own test suites without and with the plugin imported, and compare.

    python tools/dev/host_tests.py [--hosts mmengine mmpretrain] [--select quick|issue]
        [--source mmengine=PATH ...] [--out DIR] [--timeout SECONDS]

Does ``import qbheat_mm`` change how MMEngine or MMPretrain behave? Their own tests say:
each selected test module runs twice in fresh pytest processes, plain and with
``-p qbheat_mm`` (the plugin imported before anything else, as a config's
``custom_imports`` would in a user's process), and the two JUnit reports are compared
test by test. A test that passes plain and fails with the plugin is a **defect** of the
plugin (exit status 1); one that fails plain and passes with it is a **fix**, listed.

The tests come from the hosts' sources at the pinned versions (``scripts/setup.sh``):
``--source NAME=PATH`` names a git repository (the tests are taken from its tag, e.g.
``v0.10.7``) or an unpacked source tree; without it the tool clones the tag from GitHub
(network needed). Only ``tests/`` (and MMPretrain's ``configs/``) are copied, to
``--cache`` (default ``~/.cache/qbheat_mm/host_tests``), and run against the installed
packages, never a source tree. Written to ``--out``: ``results.md`` (counts side by side,
then every defect and fix), ``results.json`` (with the command and commit that made it,
so ``tools/analysis/publish_results.py`` can publish it), the JUnit reports and the logs.

Needs ``pip install -e .[host-tests]`` (what the hosts' tests import). Not part of CI:
``--select issue`` ran for 16 minutes on 2 cores (measured 2026-12-06: MMEngine 3.3
minutes a pass, MMPretrain 4.3); ``--select quick`` (a few fast modules per host) for
under a minute.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter

from qbheat_mm.utils.results import write_results

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The hosts at the versions ``scripts/setup.sh`` pins: git tag, GitHub repository, what
#: to copy besides ``tests/``, and the test selections.
HOSTS = {
    'mmengine': dict(
        tag='v0.10.7', github='open-mmlab/mmengine', extra=(),
        quick=['tests/test_fileio/test_backends/test_local_backend.py',
               'tests/test_registry/test_registry.py',
               'tests/test_hooks/test_checkpoint_hook.py'],
        issue=['tests/test_runner', 'tests/test_hooks', 'tests/test_fileio',
               'tests/test_model', 'tests/test_optim', 'tests/test_logging',
               'tests/test_dist']),
    'mmpretrain': dict(
        tag='v1.2.0', github='open-mmlab/mmpretrain', extra=('configs', ),
        quick=['tests/test_models/test_necks.py',
               'tests/test_datasets/test_transforms/test_processing.py',
               'tests/test_engine/test_hooks/test_visualization_hook.py'],
        issue=['tests/test_models/test_selfsup', 'tests/test_models/test_necks.py',
               'tests/test_models/test_heads.py', 'tests/test_models/test_backbones',
               'tests/test_datasets/test_transforms', 'tests/test_engine/test_hooks',
               'tests/test_apis']),
}
OUTCOMES = ('passed', 'failed', 'error', 'skipped')


def copy_sources(name: str, source: str | None, cache: str) -> str:
    """``tests/`` (and the host's extras) of ``name`` at its pinned tag in ``cache``."""
    host = HOSTS[name]
    dest = osp.join(cache, f"{name}-{host['tag']}")
    if osp.isdir(osp.join(dest, 'tests')):
        return dest
    parts = ['tests', *host['extra']]
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            source = osp.join(tmp, 'clone')
            subprocess.run(['git', 'clone', '--quiet', '--depth', '1', '--branch',
                            host['tag'], f"https://github.com/{host['github']}", source],
                           check=True)
        if osp.isdir(osp.join(source, 'tests')):  # an unpacked source tree
            os.makedirs(dest, exist_ok=True)
            for part in parts:
                shutil.copytree(osp.join(source, part), osp.join(dest, part))
            return dest
        git_dir = (osp.join(source, '.git') if osp.isdir(osp.join(source, '.git'))
                   else source)  # a clone, or a bare repository: take the tag
        archive = osp.join(tmp, 'tests.tar')
        with open(archive, 'wb') as f:
            subprocess.run(['git', f'--git-dir={git_dir}', 'archive', host['tag'], *parts],
                           stdout=f, check=True)
        os.makedirs(dest, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter='data')
    return dest


def read_junit(path: str) -> dict[str, str]:
    """``{test id: outcome}`` of a JUnit report (passed, failed, error or skipped)."""
    outcomes = {}
    for case in ET.parse(path).getroot().iter('testcase'):
        test = f"{case.get('classname')}::{case.get('name')}"
        tags = {child.tag for child in case}
        outcomes[test] = ('failed' if 'failure' in tags else 'error' if 'error' in tags
                          else 'skipped' if 'skipped' in tags else 'passed')
    return outcomes


def compare(plain: dict[str, str], plugin: dict[str, str]) -> dict:
    """Counts of each run, the defects (passed plain, not with the plugin), the fixes
    (failed plain, passed with it) and the tests only one run has."""
    def ok(outcome):
        return outcome == 'passed'
    both = sorted(set(plain) & set(plugin))
    return dict(
        plain=dict(Counter(plain.values())), plugin=dict(Counter(plugin.values())),
        defects=[t for t in both if ok(plain[t]) and plugin[t] in ('failed', 'error')],
        fixes=[t for t in both if plain[t] in ('failed', 'error') and ok(plugin[t])],
        only_plain=sorted(set(plain) - set(plugin)),
        only_plugin=sorted(set(plugin) - set(plain)))


def run_pytest(root: str, paths: list[str], junit: str, log: str, plugin: bool,
               timeout: float) -> None:
    """One pytest process over ``paths`` from ``root`` (the installed packages, not the
    tree), its JUnit report to ``junit``."""
    cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
           '--rootdir', root, '-o', 'addopts=', f'--junitxml={junit}',
           *(['-p', 'qbheat_mm'] if plugin else []), *paths]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (REPO, os.environ.get('PYTHONPATH')) if p))
    with open(log, 'w') as out:
        out.write('$ ' + ' '.join(cmd) + '\n')
        out.flush()
        try:
            subprocess.run(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env,
                           timeout=timeout)
        except subprocess.TimeoutExpired:
            out.write(f'\ntimed out after {timeout:.0f} s\n')
    if not osp.isfile(junit):
        raise RuntimeError(f'pytest wrote no report {junit}; see {log}')


TITLE = "The hosts' own tests, without and with `import qbheat_mm`"


def markdown(results: dict) -> str:
    lines = ['Each selected module of the host runs twice in fresh pytest processes, plain '
             'and with `-p qbheat_mm`; a defect passed plain and failed with the plugin, a '
             'fix the other way round.', '',
             '| host | selection | run | ' + ' | '.join(OUTCOMES) + ' |',
             '|---|---|---|' + '---|' * len(OUTCOMES)]
    for name, r in results.items():
        for run in ('plain', 'plugin'):
            counts = r['comparison'][run]
            lines.append(f"| {name} {r['tag']} | {r['selection']} | "
                         f"{'with -p qbheat_mm' if run == 'plugin' else 'plain'} | "
                         + ' | '.join(str(counts.get(o, 0)) for o in OUTCOMES) + ' |')
    for name, r in results.items():
        c = r['comparison']
        lines += ['', f"## {name}: {len(c['defects'])} defect(s), {len(c['fixes'])} fix(es)",
                  '']
        lines += [f'- defect: `{t}`' for t in c['defects']]
        lines += [f'- fix: `{t}`' for t in c['fixes']]
        if c['only_plain'] or c['only_plugin']:
            lines.append(f"- collected in one run only: {len(c['only_plain'])} plain, "
                         f"{len(c['only_plugin'])} with the plugin")
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--hosts', nargs='+', default=list(HOSTS), choices=list(HOSTS))
    parser.add_argument('--select', default='quick', choices=['quick', 'issue'],
                        help='which test modules (see HOSTS)')
    parser.add_argument('--source', nargs='+', default=[], metavar='NAME=PATH',
                        help='a git repository or source tree per host (default: clone)')
    parser.add_argument('--cache', default=osp.expanduser('~/.cache/qbheat_mm/host_tests'))
    parser.add_argument('--out', default='work_dirs/host_tests')
    parser.add_argument('--timeout', type=float, default=3600,
                        help='seconds per pytest run')
    args = parser.parse_args(argv)
    sources = {}
    for item in args.source:
        name, sep, path = item.partition('=')
        if not sep or name not in HOSTS:
            parser.error(f'--source {item}: expected NAME=PATH with NAME in {list(HOSTS)}')
        sources[name] = path
    os.makedirs(args.out, exist_ok=True)
    results = {}
    for name in args.hosts:
        root = copy_sources(name, sources.get(name), args.cache)
        paths = HOSTS[name][args.select]
        reports = {}
        for run in ('plain', 'plugin'):
            junit = osp.abspath(osp.join(args.out, f'{name}_{run}.xml'))
            log = osp.abspath(osp.join(args.out, f'{name}_{run}.log'))
            print(f'{name}: {run} ...', flush=True)
            run_pytest(root, paths, junit, log, run == 'plugin', args.timeout)
            reports[run] = read_junit(junit)
        results[name] = dict(tag=HOSTS[name]['tag'], selection=args.select, paths=paths,
                             comparison=compare(reports['plain'], reports['plugin']))
    text = markdown(results)
    write_results(args.out, dict(hosts=results), text, TITLE,
                  [__file__] + list(sys.argv[1:] if argv is None else argv))
    print(text)
    return results


if __name__ == '__main__':
    found = main()
    sys.exit(1 if any(r['comparison']['defects'] for r in found.values()) else 0)
