"""The one writer of results files (qbheat_mm/utils/results.py): results.json carries the
provenance of the command, results.md names it under the title, a table rebuilt from
finished runs keeps the provenance of what made them."""
import json

from qbheat_mm.utils.results import PROVENANCE_PREFIX, provenance_paragraph, write_results


def test_json_and_markdown_carry_the_provenance(tmp_path):
    json_path, md_path = write_results(str(tmp_path / 'r'), dict(rows=[1, 2]), '| a |\n|---|\n',
                                       'A title', ['tools/x.py', '--flag', 'a b'])
    record = json.loads(open(json_path).read())
    assert record['rows'] == [1, 2]
    prov = record['provenance']
    assert prov['command'] == "tools/x.py --flag 'a b'"
    assert prov['environment']['git commit'] and prov['environment']['torch']
    text = open(md_path).read()
    title, paragraph, table = text.split('\n\n', 2)
    assert title == '# A title'
    assert paragraph == provenance_paragraph(prov)
    assert paragraph.startswith(f"{PROVENANCE_PREFIX}tools/x.py --flag 'a b'` at commit `")
    assert table == '| a |\n|---|\n'


def test_a_report_only_rewrite_keeps_what_made_the_runs(tmp_path):
    work = str(tmp_path / 'r')
    write_results(work, dict(v=1), 'x', 'T', ['tools/run.py', 'first'])
    write_results(work, dict(v=2), 'y', 'T', ['tools/run.py', '--report-only'],
                  report_only=True)
    prov = json.loads((tmp_path / 'r' / 'results.json').read_text())['provenance']
    assert prov['command'] == 'tools/run.py first'
    assert prov['reported']['command'] == 'tools/run.py --report-only'
    assert 'Tabulated again by `tools/run.py --report-only`' in (
        tmp_path / 'r' / 'results.md').read_text()
