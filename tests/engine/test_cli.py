"""The command-line flags every tool shares (qbheat_mm/engine/cli.py): ``--cfg-options``
keeps a path's spaces, lists and tuples parse as MMEngine parses them."""
import argparse

import pytest
from mmengine.config import DictAction

from qbheat_mm.engine.cli import add_allow_pickle, add_cfg_options


def parse(*options):
    parser = argparse.ArgumentParser()
    add_cfg_options(parser)
    add_allow_pickle(parser)
    return parser.parse_args(['--cfg-options', *options])


def test_a_value_keeps_its_spaces():
    parsed = parse('model.backbone.init_cfg.checkpoint=/data/my runs/epoch 3.pth',
                   "work_dir='/tmp/a b'").cfg_options
    assert parsed == {'model.backbone.init_cfg.checkpoint': '/data/my runs/epoch 3.pth',
                      'work_dir': '/tmp/a b'}
    # MMEngine's own action removes them: the error then names a path nobody typed
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    assert parser.parse_args(['--cfg-options', 'x=/data/my runs/a.pth']).cfg_options == {
        'x': '/data/myruns/a.pth'}


@pytest.mark.parametrize('option, value', [
    ('x=[1, 2]', [1, 2]), ('x=(a,b)', ('a', 'b')), ('x=True', True), ('x=3', 3),
    ('x=0.5', 0.5), ('x=None', None), ("x=[[1, 2], (3, 4)]", [[1, 2], (3, 4)]),
])
def test_the_rest_parses_as_mmengine_parses_it(option, value):
    assert parse(option).cfg_options == {'x': value}


def test_a_path_with_spaces_reaches_the_strict_loader_as_typed(tmp_path):
    from tool_loader import load_tool
    train = load_tool('train.py')
    config = 'configs/probing/linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py'
    missing = tmp_path / 'my runs' / 'iter 800.pth'
    args = train.parse_args([config, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                             f'model.backbone.init_cfg.checkpoint={missing}'])
    runner = train.build_runner(args)
    with pytest.raises(FileNotFoundError, match=f'checkpoint not found: {missing}'):
        runner.model.init_weights()


def test_an_evaluation_tool_needs_a_checkpoint_or_the_random_control():
    import argparse

    from qbheat_mm.engine.cli import add_checkpoint_or_random
    parser = argparse.ArgumentParser()
    add_checkpoint_or_random(parser, 'the random-init control')
    assert parser.parse_args(['--checkpoint', 'a.pth']).checkpoint == 'a.pth'
    assert parser.parse_args(['--random']).random is True
    for argv in ([], ['--checkpoint', 'a.pth', '--random']):  # neither, or both
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
