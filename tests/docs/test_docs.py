"""The docs cannot rot: what README.md and docs/ name exists and works, and a number stated
in two places is the same in both.

- every relative link (and its ``#anchor``) and every repository path named in code
  resolves; every `make` target named is a target of the Makefile;
- every ``tools/*.py --flag`` named (also through ``tools/dist_train.sh`` and the other
  launchers) is an option of that tool's own parser;
- every config named builds its model (plans and ``_base_`` files load);
- the model-zoo tables equal what ``docs/gen_model_zoo.py`` writes from the metafiles,
  and the quoted results what ``docs/quote_results.py`` copies from ``docs/results/``;
- :data:`FACTS` stated in several places (and in the metafiles, setup.cfg, the set-up
  script) agree, and no other precise number is stated in two files: state it once and
  link to it, or add it to :data:`FACTS`;
- every page of docs/en is linked from the docs index, and the README stays short.

docs/results/ holds committed results files, not docs; it is not scanned.
"""
from __future__ import annotations

import argparse
import configparser
import functools
import importlib
import importlib.util
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterator, NamedTuple
from unittest import mock

import pytest
import yaml

from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / 'docs' / 'en'
README = REPO / 'README.md'
README_MAX_LINES = 250
# Each folder of configs (a method, the probes, the detectors, the experiment plans) has a
# README.md with its table, as OpenMMLab's config folders do.
CONFIG_FOLDERS = sorted(p for p in (REPO / 'configs').iterdir()
                        if p.is_dir() and p.name != '_base_')
DOC_FILES = [README] + sorted(p for p in (REPO / 'docs').rglob('*.md')
                              if 'results' not in p.relative_to(REPO / 'docs').parts) + [
    folder / 'README.md' for folder in CONFIG_FOLDERS]
# Top-level entries a path named in the docs may start with (the repository's own files).
REPO_ROOTS = ('configs/', 'tools/', 'scripts/', 'tests/', 'qbheat_mm/', 'metafiles/', 'docs/',
              '.ci/')
REPO_FILES = ('model-index.yml', 'setup.cfg', 'pyproject.toml', 'Makefile', 'CITATION.cff',
              'LICENSE', 'README.md')
# The launchers pass their extra arguments to a Python tool.
LAUNCHED = {'tools/dist_train.sh': 'tools/train.py', 'tools/slurm_train.sh': 'tools/train.py',
            'tools/dist_test.sh': 'tools/test.py'}


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


# ---- reading markdown -----------------------------------------------------------------

FENCE = re.compile(r'^```.*?^```[ \t]*$', re.M | re.S)
INLINE = re.compile(r'(?<!`)`([^`\n]+)`(?!`)')
GENERATED = re.compile(r'<!-- ([\w-]+):start.*?<!-- \1:end -->', re.S)
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')


@functools.lru_cache(maxsize=None)
def read(path: Path) -> str:
    return path.read_text()


def code_blocks(text: str) -> list[str]:
    """Fenced blocks, with shell line continuations joined."""
    return [re.sub(r'\\\n\s*', ' ', m.group(0).split('\n', 1)[1].rsplit('\n', 1)[0])
            for m in FENCE.finditer(text)]


def prose(text: str) -> str:
    """The text outside fenced blocks."""
    return FENCE.sub('', text)


def code_snippets(text: str) -> list[str]:
    """Every piece of code a reader may copy: the lines of fenced blocks and inline spans."""
    lines = [line for block in code_blocks(text) for line in block.splitlines()]
    return lines + INLINE.findall(prose(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text without markup, lower case, punctuation
    other than ``-`` and ``_`` dropped, spaces to hyphens."""
    text = re.sub(r'[`*]|\[([^\]]*)\]\([^)]*\)', lambda m: m.group(1) or '', heading)
    return re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset:
    seen: dict[str, int] = defaultdict(int)
    out = set()
    for line in prose(read(path)).splitlines():
        m = re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
        if m:
            base = slug(m.group(1))
            out.add(base if not seen[base] else f'{base}-{seen[base]}')
            seen[base] += 1
    return frozenset(out)


# ---- links and paths ------------------------------------------------------------------

def _links() -> Iterator[tuple[Path, str]]:
    for doc in DOC_FILES:
        for target in LINK.findall(prose(read(doc))):
            if not re.match(r'[a-z]+:', target):
                yield doc, target


@pytest.mark.parametrize('doc', DOC_FILES, ids=rel)
def test_links_and_anchors_resolve(doc):
    broken = []
    for target in (t for d, t in _links() if d == doc):
        file, _, anchor = target.partition('#')
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            broken.append(f'{target}: no such file')
        elif anchor and path.suffix == '.md' and anchor not in anchors(path):
            broken.append(f'{target}: no heading with that anchor in {rel(path)} '
                          f'(anchors: {", ".join(sorted(anchors(path)))})')
    assert not broken, f'{rel(doc)}: broken links:\n' + '\n'.join(sorted(set(broken)))


PATH = re.compile(r'(?<![\w./$-])((?:' + '|'.join(re.escape(r) for r in REPO_ROOTS) + r')'
                  r'[\w./{},*-]*|(?:' + '|'.join(re.escape(f) for f in REPO_FILES) + r'))'
                  r'(?![\w/-])')
BARE_CONFIG = re.compile(r'^[\w.]+-[\w.-]+\.py$')


def _expand(path: str) -> list[str]:
    """``a/{b,c}/d`` -> ``a/b/d``, ``a/c/d``."""
    m = re.search(r'\{([^{}]*)\}', path)
    if not m:
        return [path]
    return [p for alt in m.group(1).split(',')
            for p in _expand(path[:m.start()] + alt + path[m.end():])]


def named_paths(doc: Path) -> set[str]:
    """Repository paths named in the code of a doc (commands, inline code)."""
    found = set()
    for snippet in code_snippets(read(doc)):
        for path in PATH.findall(snippet):
            found.update(p.rstrip('.,:;') for p in _expand(path))
        if BARE_CONFIG.match(snippet):
            found.add(snippet)
    return found


def _exists(path: str) -> bool:
    if BARE_CONFIG.match(path):  # a config named without its folder
        return any((REPO / 'configs').rglob(path))
    if '*' in path:
        return any(REPO.glob(path))
    return (REPO / path).exists()


@pytest.mark.parametrize('doc', DOC_FILES, ids=rel)
def test_named_paths_exist(doc):
    missing = sorted(p for p in named_paths(doc) if not _exists(p))
    assert not missing, (f'{rel(doc)} names paths that do not exist (fix the path, or '
                         f'create the file):\n' + '\n'.join(missing))


def makefile_targets() -> set[str]:
    return set(re.findall(r'^([\w.-]+):(?!=)', read(REPO / 'Makefile'), re.M))


@pytest.mark.parametrize('doc', DOC_FILES, ids=rel)
def test_make_targets_exist(doc):
    named = {t for s in code_snippets(read(doc)) for t in re.findall(r'\bmake ([\w-]+)', s)}
    missing = sorted(named - makefile_targets())
    assert not missing, f'{rel(doc)} names make targets the Makefile lacks: {missing}'


def test_code_cites_only_existing_docs():
    """Comments, messages and docstrings of the code point to pages that exist."""
    sources = [REPO / 'Makefile', REPO / '.ci' / 'run', *(REPO / 'scripts').glob('*.sh')]
    for folder in ('tools', 'qbheat_mm', 'configs', 'metafiles'):
        sources += [p for p in (REPO / folder).rglob('*') if p.suffix in ('.py', '.sh', '.yml')]
    missing = sorted({f'{rel(src)}: {page}' for src in sources
                      for page in re.findall(r'docs/[\w/.-]+\.md', src.read_text())
                      if not (REPO / page).is_file()})
    assert not missing, 'cited docs pages that do not exist:\n' + '\n'.join(missing)


# ---- tool flags -----------------------------------------------------------------------

TOOL = re.compile(r'(?<![\w/.-])(tools/[\w/]+\.(?:py|sh))|(?:python|\.venv/bin/python)\s+-m\s+'
                  r'(qbheat_mm[\w.]*)')
FLAG = re.compile(r'(?<![\w-])(--[A-Za-z][\w-]*)')
COMMAND_END = re.compile(r'\s#|;|&&|\s\|\s|$')


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _capture(parser, *args, **kwargs):
    raise _Captured(parser)


@functools.lru_cache(maxsize=None)
def tool_options(tool: str) -> frozenset:
    """Option strings of a tool's parser (``tools/x.py`` or a ``qbheat_mm`` module), read by
    stopping the tool at the moment it parses its arguments."""
    if tool.startswith('tools/'):
        module = load_tool(tool[len('tools/'):])
    else:
        module = importlib.import_module(tool)
    entry = getattr(module, 'parse_args', None) or module.main
    with mock.patch.object(argparse.ArgumentParser, 'parse_args', _capture), \
            mock.patch.object(argparse.ArgumentParser, 'parse_known_args', _capture):
        try:
            entry([])
        except _Captured as captured:
            return frozenset(captured.parser._option_string_actions)
    raise AssertionError(f'{tool} returned without parsing arguments')


def named_flags() -> dict[str, dict[str, set[str]]]:
    """{tool: {flag: {docs naming it}}} over every command in the docs."""
    out: dict = defaultdict(lambda: defaultdict(set))
    for doc in DOC_FILES:
        for snippet in code_snippets(read(doc)):
            matches = list(TOOL.finditer(snippet))
            for m, after in zip(matches, matches[1:] + [None]):
                tool = m.group(1) or m.group(2)
                if tool.endswith('.sh') and tool not in LAUNCHED:
                    continue  # torchrun.sh: its script follows and takes the flags
                tool = LAUNCHED.get(tool, tool)
                segment = snippet[m.end():after.start() if after else len(snippet)]
                segment = segment[:COMMAND_END.search(segment).start()]
                for flag in FLAG.findall(segment):
                    out[tool][flag].add(rel(doc))
    return out


NAMED_FLAGS = named_flags()


@pytest.mark.parametrize('tool', sorted(NAMED_FLAGS))
def test_tool_flags_are_accepted(tool):
    if tool.startswith('tools/'):
        assert (REPO / tool).is_file(), f'{tool} does not exist'
    unknown = {f: sorted(docs) for f, docs in NAMED_FLAGS[tool].items()
               if f not in tool_options(tool)}
    assert not unknown, (f'{tool} has no option {", ".join(sorted(unknown))} '
                         f'(named in {unknown}); its options: {sorted(tool_options(tool))}')


def test_the_flag_reader_sees_the_launchers_and_continuations():
    """The docs' commands are read as a shell would: continuation lines joined, launcher
    arguments given to the tool they launch."""
    assert {'--cfg-options', '--auto-scale-lr'} <= set(NAMED_FLAGS['tools/train.py'])
    assert '--checkpoint' in NAMED_FLAGS['tools/analysis/knn_eval.py']
    assert tool_options('tools/train.py') >= {'--resume', '--cfg-options', '--channels-last'}


# ---- configs --------------------------------------------------------------------------

def named_configs() -> list[str]:
    configs = set()
    for doc in DOC_FILES:
        for path in named_paths(doc):
            if BARE_CONFIG.match(path):
                path = rel(next((REPO / 'configs').rglob(path), REPO / 'configs' / path))
            if path.startswith('configs/') and path.endswith('.py') and '*' not in path:
                configs.add(path)
    return sorted(configs)


@pytest.mark.parametrize('config', named_configs())
def test_named_configs_build(config):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from qbheat_mm.apis import init_model

    assert (REPO / config).is_file(), f'{config} does not exist'
    if '/_base_/' in config or config.startswith('configs/experiments/'):
        Config.fromfile(REPO / config)  # a fragment or a plan: it loads; no model of its own
        return
    try:
        model = init_model(str(REPO / config))
        assert type(model).__name__ == str(model.cfg.model.type).split('.')[-1]
    finally:  # detection configs switch the default scope to mmdet
        DefaultScope.get_instance(f'docs_test_{config}', scope_name='mmpretrain')


# ---- the model zoo --------------------------------------------------------------------

def _model_zoo_script():
    spec = importlib.util.spec_from_file_location('gen_model_zoo', REPO / 'docs' /
                                                  'gen_model_zoo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_zoo_tables_are_generated_from_the_metafiles():
    gen = _model_zoo_script()
    collections = gen.load_index()
    for path, blocks in gen.BLOCKS.items():
        assert gen.render(read(path), blocks, collections) == read(path), (
            f'{rel(path)}: the model-zoo table is out of date: run python docs/gen_model_zoo.py')


def test_quoted_results_equal_the_committed_results_files():
    spec = importlib.util.spec_from_file_location('quote_results', REPO / 'docs' /
                                                  'quote_results.py')
    quote = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quote)
    for page in quote.pages():
        assert quote.render(read(page), page) == read(page), (
            f'{rel(page)}: a quoted result is out of date: run python docs/quote_results.py')


# ---- numbers --------------------------------------------------------------------------

def _metafile_model(name: str) -> dict:
    for collection in _model_zoo_script().load_index():
        for model in collection['Models']:
            if model['Name'] == name:
                return model
    raise KeyError(name)


def _setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / 'setup.cfg')
    return cfg


class Fact(NamedTuple):
    """A number (or tuple of numbers) stated in several files: ``where`` maps each file to
    the regexes that find it there (one group each; every match in a file must agree);
    ``source``, when given, is what the value must equal (a metafile, setup.cfg)."""
    name: str
    where: dict
    source: object = None


def _demo_probe():
    return _metafile_model('linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos')


def _demo_retinanet():
    return _metafile_model('retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco')


def _mf294():
    return _metafile_model('mobileformer-294m_8xb128_in1k')['Metadata']


def _results(name: str) -> dict:
    """A committed results file (docs/results/NAME/results.json)."""
    import json
    return json.loads(read(REPO / 'docs' / 'results' / name / 'results.json'))


def _operator_effect(name: str, mode: str) -> str:
    """Learned minus frozen masked PSNR of a heat-ablation results file, as quoted."""
    (effect, ) = [e for e in _results(name)['effects'] if e['mode'] == mode]
    return f"{effect['delta']:.2f}"


FACTS = [
    Fact('control: learned - frozen masked PSNR, block mode (dB)', {
        'README.md': [r'(?:yes: by|the same cells in each,) (\d+\.\d\d) dB'],
        'docs/en/experiments/control.md': [r'beats the frozen one by (\d+\.\d\d) dB in `block`']},
        source=lambda: (_operator_effect('control', 'block'), )),
    Fact('control: learned - frozen masked PSNR, recursive mode (dB)', {
        'README.md': [r'and (\d+\.\d\d) dB \(recursive\)'],
        'docs/en/experiments/control.md': [r'and by (\d+\.\d\d) dB in `recursive`']},
        source=lambda: (_operator_effect('control', 'recursive'), )),
    Fact('256 px ablation: learned - frozen masked PSNR, block mode (dB)', {
        'README.md': [r'no: learned - frozen (\d+\.\d\d) dB'],
        'docs/en/experiments/heat_operator_256px.md': [r'Learned minus frozen is (\d+\.\d\d) dB']},
        source=lambda: (_operator_effect('heat_operator_256px', 'block'), )),
    Fact('mmcv build time on 2 cores (minutes)', {
        'README.md': [r'build them once, about (\d+) minutes on 2 cores'],
        'docs/en/get_started.md': [r'takes about (\d+) minutes on 2 cores'],
        'scripts/setup.sh': [r'about (\d+) minutes on 2 cores']}),
    Fact('make test on 2 cores', {
        'README.md': [r'takes\s+(about\s+a\s+quarter\s+of\s+an\s+hour)\s+on\s+2\s+cores'],
        'docs/en/get_started.md': [
            r'takes\s+(about\s+a\s+quarter\s+of\s+an\s+hour)\s+on\s+2\s+cores']},
        # the measured run the two pages link: a quarter of an hour is 10 to 20 minutes
        source=lambda: ('about a quarter of an hour', ) if 600 <= json.loads(
            (REPO / 'docs/results/fresh_clone/results.json').read_text())['steps']['test'][
            'seconds'] <= 1200 else ('the measured run disagrees', )),
    Fact('make demo (minutes)', {
        'README.md': [r'800 iterations \(about (\d+) minutes\)'],
        'docs/en/user_guides/demo.md': [r'It takes about (\d+) minutes on quiet cores'],
        'configs/qbheat_mobileformer_demo.py': [r'about (\d+) minutes\)']}),
    Fact('end of make demo (dB)', {
        'README.md': [r'near\s+(\d+\.\d-\d+\.\d)\s+dB'],
        'docs/en/user_guides/demo.md': [r'near\s+(\d+\.\d-\d+\.\d)\s+dB']}),
    Fact('demo trivial predictors, copy and flat (dB)', {
        'docs/en/user_guides/demo.md': [r'copy / flat visible mean \| (\d+\.\d+) / \d',
                                        r'copy / flat visible mean \| [\d.]+ / (\d+\.\d+)'],
        'docs/en/experiments/heat_operator_ablation.md': [
            r'320 crops; baselines copy (\d+\.\d+) dB', r'320 crops; [^;]*flat (\d+\.\d+) dB'],
        'docs/en/experiments/decoder_ablation.md': [r'copy (\d+\.\d+) dB, flat',
                                                    r'copy [\d.]+ dB, flat (\d+\.\d+) dB']}),
    Fact("the paper's tran-1 top-1, QB-Heat and MoCo-v2", {
        'README.md': [r'\| (\d+\.\d) vs \d+\.\d % top-1', r'\| \d+\.\d vs (\d+\.\d) % top-1'],
        'docs/en/user_guides/probing.md': [r'QB-Heat at (\d+\.\d) % top-1',
                                           r"MoCo-v2's (\d+\.\d) %"]}),
    Fact("the paper's frozen COCO gains (AP over MoCo-v2, over supervised)", {
        'README.md': [r'\+(\d+\.\d) AP over MoCo-v2', r'\+(\d+\.\d) AP over supervised'],
        'docs/en/user_guides/detection.md': [r'\+(\d+\.\d) AP over MoCo-v2',
                                             r'\+(\d+\.\d) AP over supervised']}),
    Fact('MoCo-v2 step / QB-Heat step at 256 px, batch 8, default and lighter decoder', {
        'README.md': [r'(\d\.\d\d)x \(default decoder\)', r'(\d\.\d\d)x \(lighter decoder\)'],
        'docs/en/benchmarks.md': [r'^- MoCo-v2 / QB-Heat = (\d\.\d\d) \(paired',
                                  r'^- MoCo-v2 / QB-Heat, decoder 2 x 192 = (\d\.\d\d) \(paired']},
        source=lambda: tuple(
            f"{_results('benchmark_step')['summary']['variants'][name]['mocov2_over_qbheat']:.2f}"
            for name in ('qbheat', 'qbheat_lightdec'))),
    Fact('held-out ImageNet val images of the QB-Heat recipe', {
        'docs/en/method.md': [r'PSNR per quadrant on ([\d,]+) held-out'],
        'docs/en/user_guides/pretraining.md': [r'reconstructs ([\d,]+) held-out'],
        'docs/en/user_guides/datasets.md': [r'on the first ([\d,]+) val images'],
        'configs/_base_/datasets/imagenet_bs256_qbheat-256px.py': [
            r"split='val', indices=(\d+)"]}),
    Fact('Mobile-Former-294M classifier parameters', {
        'docs/en/method.md': [r'\| 294m \| [\d.]+M \(([\d,]+)\)']},
        source=lambda: (str(_mf294()['Parameters']), )),
    Fact('Mobile-Former-294M classifier FLOPs (M)', {
        'docs/en/method.md': [r'it prints\s+(\d+\.\d+)M multiply-adds',
                              r'\| 294m \| [^|]+\| (\d+)M / 294M']},
        source=lambda: (f'{_mf294()["FLOPs"] / 1e6:.2f}', f'{_mf294()["FLOPs"] / 1e6:.0f}')),
    Fact('demo linear probe top-1', {
        'docs/en/user_guides/demo.md': [r'\| linear \| (\d+\.\d) \|']},
        source=lambda: (str(_demo_probe()['Results'][0]['Metrics']['Top 1 Accuracy']), )),
    Fact('demo RetinaNet box AP, AP50, AP75', {
        'docs/en/user_guides/demo.md': [
            r'\(per-quarter decoder\) \| 20 \(500\) \| [^|]+\| \*\*(0\.\d+)\*\*',
            r'\(per-quarter decoder\) \| 20 \(500\) \| [^|]+\| \*\*[\d.]+\*\* \| (0\.\d+)',
            r'\(per-quarter decoder\) \| 20 \(500\) \| [^|]+\| \*\*[\d.]+\*\* \| [\d.]+ \| '
            r'(0\.\d+)']},
        source=lambda: tuple(f'{_demo_retinanet()["Results"][0]["Metrics"][k] / 100:.3f}'
                             for k in ('box AP', 'box AP@0.5', 'box AP@0.75'))),
    Fact('version', {
        'CITATION.cff': [r'^version: ([\d.]+)$'],
        'README.md': [r'version = \{([\d.]+)\}'],
        'docs/en/notes/changelog.md': [r'^## v([\d.]+)']},
        source=lambda: (_setup_cfg()['metadata']['version'], )),
    Fact('license', {
        'CITATION.cff': [r'^license: (\S+)$'],
        'README.md': [r'license = \{(\S+)\}']},
        source=lambda: (_setup_cfg()['metadata']['license'], )),
]


def _fact_values(fact: Fact) -> dict[str, tuple]:
    values = {}
    for file, patterns in fact.where.items():
        text = read(REPO / file)
        value = []
        for pattern in patterns:
            found = set(re.findall(pattern, text, re.M))
            assert found, (f'{fact.name}: {file} no longer states it (pattern {pattern!r}); '
                           f'update the pattern in tests/docs/test_docs.py or link instead')
            assert len(found) == 1, f'{fact.name}: {file} states it differently: {found}'
            value.append(found.pop().replace(',', ''))  # 5,000 == 5000
        values[file] = tuple(value)
    return values


@pytest.mark.parametrize('fact', FACTS, ids=lambda f: f.name)
def test_facts_stated_in_several_places_agree(fact):
    values = _fact_values(fact)
    if fact.source is not None:
        values['(source)'] = fact.source()
    assert len(set(values.values())) == 1, (
        f'{fact.name} disagrees: ' + '; '.join(f'{f}: {v}' for f, v in values.items()))


# A precise number: 4+ significant digits with a decimal point (16.59, 292.49) or with
# thousands separators (11,422,648); shorter ones (0.26, 23.8) coincide too often between
# unrelated tables, so the ones that repeat on purpose are FACTS. Versions and pins (2.14.1,
# torch 2.14) are not measurements.
NUMBER = re.compile(r'(?<![\w.,/^-])(\d{1,3}(?:,\d{3})+|\d+\.\d+)(?![\w.]*\d)(?!\.\d)')
NOT_MEASUREMENTS = {'2.14': 'torch 2.14', '3.11': 'Python 3.11', '2.6': 'torch 2.6',
                    '0.10.7': 'mmengine', '1.2.0': 'mmpretrain', '3.3.0': 'mmdet'}


def stated_numbers(doc: Path) -> set[str]:
    """Precise numbers in a doc's prose and tables (not code, not generated blocks)."""
    text = GENERATED.sub('', prose(read(doc)))
    text = INLINE.sub('', LINK.sub('', text))
    return {n for n in NUMBER.findall(text)
            if len(re.sub(r'\D', '', n).lstrip('0')) >= 4 and n not in NOT_MEASUREMENTS}


def test_no_number_is_stated_in_two_files_unless_checked():
    """State a measured number once and link to it; a number that must appear twice goes
    into FACTS, which checks the copies agree."""
    checked = {n for fact in FACTS for values in _fact_values(fact).values()
               for value in values for n in re.findall(r'\d+(?:\.\d+)?', value)}
    where = defaultdict(set)
    for doc in DOC_FILES:
        for number in stated_numbers(doc):
            if number.replace(',', '') not in checked:
                where[number].add(rel(doc))
    twice = {n: sorted(docs) for n, docs in where.items() if len(docs) > 1}
    assert not twice, ('numbers stated in more than one file (state once and link, or add '
                       'a Fact):\n' + '\n'.join(f'{n}: {d}' for n, d in sorted(twice.items())))


# ---- structure ------------------------------------------------------------------------

def test_every_page_is_in_the_docs_index():
    index = DOCS / 'index.md'
    linked = {(index.parent / t.partition('#')[0]).resolve()
              for t in LINK.findall(read(index)) if not re.match(r'[a-z]+:', t)}
    orphans = sorted(rel(p) for p in DOCS.rglob('*.md') if p != index and p not in linked)
    assert not orphans, f'pages missing from docs/en/index.md: {orphans}'


@pytest.mark.parametrize('folder', CONFIG_FOLDERS, ids=lambda p: p.name)
def test_every_config_folder_has_a_readme_that_lists_its_configs(folder):
    readme = folder / 'README.md'
    assert readme.is_file(), f'{rel(folder)} has no README.md (a table of its configs)'
    linked = {t.partition('#')[0] for t in LINK.findall(read(readme))}
    unlisted = sorted(p.name for p in folder.glob('*.py') if p.name not in linked)
    assert not unlisted, f'{rel(readme)} does not list: {unlisted}'


def test_readme_stays_short():
    lines = len(read(README).splitlines())
    assert lines <= README_MAX_LINES, (
        f'README.md has {lines} lines (at most {README_MAX_LINES}): move the reference into '
        'docs/en/ and link to it')


def test_citation_file_parses_and_names_the_paper():
    citation = yaml.safe_load(read(REPO / 'CITATION.cff'))
    assert citation['cff-version'] == '1.2.0'
    (paper, ) = citation['references']
    assert paper['url'] == 'https://arxiv.org/abs/2211.13228'
    assert 'arXiv:2211.13228' in read(README)
