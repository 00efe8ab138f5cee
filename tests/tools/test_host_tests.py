"""tools/dev/host_tests.py: the hosts it runs are the pinned ones, and its comparison of
two JUnit reports finds defects (passed plain, failed with the plugin) and fixes."""
from importlib.metadata import version

from tool_loader import load_tool


def junit(path, outcomes):
    cases = ''.join(
        f'<testcase classname="tests.t" name="{name}">'
        + {'passed': '', 'failed': '<failure message="x"/>', 'error': '<error message="x"/>',
           'skipped': '<skipped message="x"/>'}[outcome] + '</testcase>'
        for name, outcome in outcomes.items())
    path.write_text(f'<testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>')
    return str(path)


def test_the_hosts_are_the_pinned_versions():
    tool = load_tool('dev/host_tests.py')
    for name, host in tool.HOSTS.items():
        assert host['tag'] == f'v{version(name)}', name


def test_defects_and_fixes_from_two_reports(tmp_path):
    tool = load_tool('dev/host_tests.py')
    plain = tool.read_junit(junit(tmp_path / 'plain.xml', dict(
        a='passed', b='passed', c='failed', d='skipped', e='error', gone='passed')))
    plugin = tool.read_junit(junit(tmp_path / 'plugin.xml', dict(
        a='passed', b='failed', c='passed', d='skipped', e='error', new='passed')))
    c = tool.compare(plain, plugin)
    assert c['defects'] == ['tests.t::b'] and c['fixes'] == ['tests.t::c']
    assert c['plain'] == dict(passed=3, failed=1, skipped=1, error=1)
    assert c['only_plain'] == ['tests.t::gone'] and c['only_plugin'] == ['tests.t::new']
    text = tool.markdown(dict(mmengine=dict(tag='v0', selection='quick', comparison=c)))
    assert '| mmengine v0 | quick | plain | 3 | 1 | 1 | 1 |' in text
    assert '- defect: `tests.t::b`' in text and '- fix: `tests.t::c`' in text
