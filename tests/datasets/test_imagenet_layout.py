"""The ImageNet folder check the tools run before MMPretrain builds the dataset: each
unreadable layout is named with what the folder holds and the layout MMPretrain expects."""
from pathlib import Path

import pytest
from mmengine.config import Config

from qbheat_mm.datasets.imagenet_layout import (ImageNetLayoutError, check_imagenet_layout,
                                                check_config_imagenet_layouts)


def make(root: Path, folders: int, files: int = 0) -> None:
    for i in range(folders):
        (root / 'train' / f'n{i:08d}').mkdir(parents=True)
    (root / 'train').mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (root / 'train' / f'ILSVRC2012_val_{i:08d}.JPEG').write_bytes(b'')


def test_a_subset_of_class_folders_is_named_with_the_layout(tmp_path):
    make(tmp_path, folders=2)
    with pytest.raises(ImageNetLayoutError, match=rf'(?s){tmp_path}/train holds 2 class '
                       rf'subfolders and {tmp_path}/meta/train.txt does not exist\. MMPretrain '
                       r"reads .*all 1000\..*'CustomDataset'"):
        check_imagenet_layout(dict(type='ImageNet', data_root=str(tmp_path), split='train'))


def test_a_flat_folder_without_its_meta_file_and_a_missing_one(tmp_path):
    make(tmp_path, folders=0, files=3)
    with pytest.raises(ImageNetLayoutError, match=r'holds 3 files and no class subfolders '
                       r'\(the flat ILSVRC validation layout\)'):
        check_imagenet_layout(dict(type='ImageNet', data_root=str(tmp_path), split='train'))
    with pytest.raises(ImageNetLayoutError, match=r'the ImageNet val folder .*/val does not '
                       r'exist'):
        check_imagenet_layout(dict(type='ImageNet', data_root=str(tmp_path), split='val'))
    with pytest.raises(ImageNetLayoutError, match=r'ann_file .*/meta/x.txt does not exist'):
        check_imagenet_layout(dict(data_root=str(tmp_path), split='val',
                                   ann_file='meta/x.txt'))


def test_readable_layouts_pass(tmp_path):
    make(tmp_path, folders=1000)
    check_imagenet_layout(dict(data_root=str(tmp_path), split='train'))
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta' / 'val.txt').write_text('a.JPEG 0\n')
    check_imagenet_layout(dict(data_root=str(tmp_path), split='val'))  # the meta file
    check_imagenet_layout(dict(data_root='s3://bucket/imagenet', split='train'))  # remote


def test_the_configs_imagenet_datasets_are_checked_through_wrappers(tmp_path):
    make(tmp_path, folders=2)
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2,
        dataset=dict(type='mmpretrain.ImageNet', data_root=str(tmp_path), split='train')))))
    with pytest.raises(ImageNetLayoutError, match='holds 2 class subfolders'):
        check_config_imagenet_layouts(cfg)
    check_config_imagenet_layouts(Config(dict(train_dataloader=dict(dataset=dict(
        type='CustomDataset', data_root=str(tmp_path))))))


def test_the_tools_check_before_mmpretrain_builds_the_dataset(tmp_path):
    from tool_loader import load_tool
    make(tmp_path, folders=2)
    train = load_tool('train.py')
    config = 'configs/probing/linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py'
    args = train.parse_args([config, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                             f'train_dataloader.dataset.data_root={tmp_path}',
                             f'val_dataloader.dataset.data_root={tmp_path}'])
    with pytest.raises(ImageNetLayoutError, match=r'holds 2 class subfolders'):
        train.build_runner(args)
