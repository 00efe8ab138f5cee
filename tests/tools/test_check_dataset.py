"""tools/check_dataset.py finds a planted empty, truncated and non-image file; during
training an undecodable image stops with an error naming the file and the dataset, or,
with --skip-bad-images, is skipped and counted in the log."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from qbheat_mm.datasets import ImageDecodeError, check_image, image_checks
from tool_loader import load_tool




check_tool, train_tool = load_tool('check_dataset.py'), load_tool('train.py')


def imagenet_folder(root: Path, per_class: int = 4) -> Path:
    """ImageNet layout (``root/<class>/<name>.JPEG``) of readable noise images."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(('n01', 'n02')):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            img = (rng.integers(0, 128, (32, 32, 3)) + 100 * c).astype(np.uint8)
            cv2.imwrite(str(root / name / f'{i}.JPEG'), img)
    return root


def plant_bad_files(root: Path) -> dict[str, Path]:
    good = (root / 'n01' / '0.JPEG').read_bytes()
    bad = {'empty': root / 'n01' / 'empty.JPEG', 'truncated': root / 'n02' / 'cut.JPEG',
           'text': root / 'n02' / 'notes.JPEG'}
    bad['empty'].write_bytes(b'')
    bad['truncated'].write_bytes(good[:len(good) // 2])
    bad['text'].write_text('not an image\n')
    return bad


def config(root: Path, tmp_path: Path, iters: int = 4) -> str:
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    dataset = dict(type='CustomDataset', data_root=str(root), pipeline=pipeline)
    loader = dict(batch_size=3, num_workers=0, dataset=dataset,
                  sampler=dict(type='DefaultSampler', shuffle=True))
    cfg = dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['qbheat_mm'], allow_failed_imports=False),
        model=dict(type='ImageClassifier',
                   data_preprocessor=dict(num_classes=2, mean=[127.5] * 3, std=[127.5] * 3),
                   backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                                 out_indices=(3, )),
                   neck=dict(type='GlobalAveragePooling'),
                   head=dict(type='LinearClsHead', num_classes=2, in_channels=64)),
        train_dataloader=loader,
        val_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_cfg=dict(), val_evaluator=dict(type='Accuracy', topk=(1, )),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=100),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', interval=8,
                                           by_epoch=False)),
        randomness=dict(seed=0),
        # MMEngine's logger is a named global: a unique name keeps this run's log file
        # from going to another Runner started in the same second.
        experiment_name=f'cls_{tmp_path.name}')
    path = tmp_path / 'cls.py'
    Config(cfg).dump(path)
    return str(path)


def test_check_image_reasons(tmp_path):
    bad = plant_bad_files(imagenet_folder(tmp_path / 'img'))
    assert check_image(str(tmp_path / 'img' / 'n01' / '1.JPEG')) is None
    assert check_image(str(bad['empty'])) == 'empty file (0 bytes)'
    assert 'truncated' in check_image(str(bad['truncated']))
    assert 'cannot identify image file' in check_image(str(bad['text']))
    assert 'No such file' in check_image(str(tmp_path / 'missing.JPEG'))


def test_tool_lists_every_bad_image_and_exits_1(tmp_path, capsys):
    root = imagenet_folder(tmp_path / 'img')
    bad = plant_bad_files(root)
    assert check_tool.main([config(root, tmp_path)]) == 1
    out, err = capsys.readouterr()
    lines = sorted(out.strip().splitlines())
    # train and val use the same folder: each bad file is listed for both splits.
    assert len(lines) == 6
    for split in ('train', 'val'):
        assert f'{split}: {bad["empty"]}: empty file (0 bytes)' in lines
        assert any(line.startswith(f'{split}: {bad["truncated"]}: ') and 'truncated' in line
                   for line in lines)
        assert any(line.startswith(f'{split}: {bad["text"]}: ') for line in lines)
    assert '6 unreadable image(s)' in err
    assert 'train 11 images, val 11 images' in err


def test_tool_exits_0_on_a_clean_dataset(tmp_path, capsys):
    root = imagenet_folder(tmp_path / 'img')
    assert check_tool.main([config(root, tmp_path), '--splits', 'train']) == 0
    assert 'every image is readable (train 8 images)' in capsys.readouterr().out


@pytest.mark.slow
def test_training_stops_naming_the_file_and_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv(image_checks.SKIP_ENV, '0')
    root = imagenet_folder(tmp_path / 'img')
    empty = root / 'n01' / 'empty.JPEG'
    empty.write_bytes(b'')
    with pytest.raises(ImageDecodeError) as error:
        train_tool.main([config(root, tmp_path, iters=8), '--work-dir', str(tmp_path / 'w'),
                         '--no-validate'])
    message = str(error.value)
    assert message.startswith(f'cannot read image {empty}: ')
    assert '!buf.empty()' in message  # cv2's own reason is kept
    assert f"dataset CustomDataset, data_root='{root}', train, index" in message
    assert 'tools/check_dataset.py' in message and '--skip-bad-images' in message


@pytest.mark.slow
def test_skip_bad_images_skips_and_counts_in_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv(image_checks.SKIP_ENV, '0')
    root = imagenet_folder(tmp_path / 'img')
    empty = root / 'n01' / 'empty.JPEG'
    empty.write_bytes(b'')
    before = image_checks.skipped_count()
    work_dir = tmp_path / 'w'
    train_tool.main([config(root, tmp_path, iters=8), '--work-dir', str(work_dir),
                     '--no-validate', '--skip-bad-images'])
    skipped = image_checks.skipped_count() - before
    assert skipped >= 1  # 8 iterations x 3 images cover the 9 files twice
    (log, ) = work_dir.glob('*/*.log')
    lines = [line for line in log.read_text().splitlines() if 'Skipped unreadable image' in line]
    assert len(lines) == skipped
    assert f'Skipped unreadable image {empty}' in lines[0]
    assert 'skipped so far in this process (QBHEAT_SKIP_BAD_IMAGES=1)' in lines[-1]
    assert (work_dir / 'iter_8.pth').is_file()


def test_validation_never_skips(tmp_path, monkeypatch):
    monkeypatch.setenv(image_checks.SKIP_ENV, '1')
    image_checks.install()  # what the tools' load_config does
    from mmengine.registry import DATASETS, init_default_scope
    root = imagenet_folder(tmp_path / 'img')
    (root / 'n01' / 'empty.JPEG').write_bytes(b'')
    init_default_scope('mmpretrain')
    dataset = DATASETS.build(dict(type='CustomDataset', data_root=str(root), test_mode=True,
                                  pipeline=[dict(type='LoadImageFromFile')]))
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_path'].endswith('empty.JPEG'))
    with pytest.raises(ImageDecodeError, match=r'test_mode, index \d+\)\. Run '
                                                r'tools/check_dataset.py CONFIG to list every '
                                                r'unreadable image$'):
        dataset[index]


IMPORT_ONLY = """
import mmengine.dataset, mmcv.transforms
before = [mmcv.transforms.LoadImageFromFile.transform, mmengine.dataset.BaseDataset.prepare_data]
import qbheat_mm, qbheat_mm.det
after = [mmcv.transforms.LoadImageFromFile.transform, mmengine.dataset.BaseDataset.prepare_data]
print([a is b for a, b in zip(before, after)])
"""


@pytest.mark.slow  # fresh Python processes
def test_importing_the_plugin_leaves_image_loading_alone():
    """The image checks are the project's tools' (load_config installs them, and
    QBHEAT_IMAGE_CHECKS=1 carries them to the processes a run starts): a user's own
    process that imports the plugin keeps mmcv's and MMEngine's behaviour."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != image_checks.INSTALL_ENV}
    for extra, expected in (({}, [True, True]), ({image_checks.INSTALL_ENV: '1'},
                                                 [False, False])):
        out = subprocess.run([sys.executable, '-c', IMPORT_ONLY], capture_output=True,
                             text=True, check=True, env={**env, **extra}).stdout
        assert out.strip().splitlines()[-1] == str(expected), extra
