"""tools/analysis/publish_results.py: tables and plots copied with their provenance, links
into run directories flattened, and untraceable results refused."""
import json

import pytest
from tool_loader import load_tool

PROVENANCE = dict(command='tools/analysis/heat_ablation.py cfg.py --seeds 0 1',
                  written='2026-12-04T18:00:00+00:00',
                  machine=dict(cores=2, processor='x86_64', threads='2'),
                  environment={'git commit': 'abc1234', 'torch': '2.14.1',
                               'mmpretrain': '1.2.0'})


def experiment(work, provenance=PROVENANCE):
    work.mkdir()
    (work / 'results.md').write_text(
        '# Title\n\nIntro.\n\n| a | b |\n|---|---|\n| [16.50](run_seed0) | [1.0](x/y) |\n'
        '[paper](https://arxiv.org/abs/2211.13228)\n')
    (work / 'results.json').write_text(json.dumps(dict(rows=[], provenance=provenance)))
    (work / 'curves.png').write_bytes(b'png')
    return work


def test_published_tables_name_command_commit_and_machine(tmp_path):
    tool = load_tool('analysis/publish_results.py')
    work = experiment(tmp_path / 'work')
    picture = tmp_path / 'iter_600.png'
    picture.write_bytes(b'picture')
    dest = tmp_path / 'docs' / 'results' / 'control'
    written = tool.main([str(work), str(dest), '--picture', str(picture)])
    assert sorted(p.split('/')[-1] for p in written) == [
        'curves.png', 'iter_600.png', 'results.json', 'results.md']
    text = (dest / 'results.md').read_text()
    assert text.startswith('# Title\n\nMade by `tools/analysis/heat_ablation.py cfg.py '
                           '--seeds 0 1` at commit `abc1234`, written 2026-12-04')
    assert '2 x86_64 cores (OMP_NUM_THREADS=2), torch 2.14.1' in text
    assert '| 16.50 | 1.0 |' in text  # links into run dirs flattened
    assert '[paper](https://arxiv.org/abs/2211.13228)' in text  # others kept
    assert (dest / 'curves.png').read_bytes() == b'png'


def test_untraceable_or_missing_results_are_refused(tmp_path):
    tool = load_tool('analysis/publish_results.py')
    with pytest.raises(FileNotFoundError, match='results.json not found'):
        tool.publish(str(tmp_path), str(tmp_path / 'out'))
    work = experiment(tmp_path / 'old', provenance=None)
    with pytest.raises(ValueError, match='records no provenance.*--report-only'):
        tool.publish(str(work), str(tmp_path / 'out'))
    work = experiment(tmp_path / 'new')
    with pytest.raises(FileNotFoundError, match='--picture .*nope.png: no such file'):
        tool.publish(str(work), str(tmp_path / 'out'), [str(tmp_path / 'nope.png')])
