"""Unreadable images: found before a run (:func:`check_dataset`), named during one.

mmcv 2.1.0's ``LoadImageFromFile`` stops on an empty file with ``cv2.error: ...
!buf.empty() in function 'imdecode_'`` and names neither the file nor the dataset, hours
into a run. :func:`install` makes every decode failure an :class:`ImageDecodeError`
naming the file, the dataset and the index. The project's tools install it for their runs
(:func:`qbheat_mm.engine.cli.load_config`); importing the plugin does not, so a user's own
process keeps mmcv's and MMEngine's behaviour. ``install`` also sets
``QBHEAT_IMAGE_CHECKS=1``, so that processes the run starts (spawned dataloader workers,
which import the plugin to unpickle the dataset) install it too. Behind an explicit
option (``--skip-bad-images`` on ``tools/train.py``, ``QBHEAT_SKIP_BAD_IMAGES=1``) a
training set skips the image instead (MMEngine's ``BaseDataset`` then draws another
index) and every skip is logged with a running count; validation and test sets always
raise, so metrics never silently cover fewer images.
"""
from __future__ import annotations

import functools
import io
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import mmcv
from mmcv.transforms import LoadImageFromFile
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from PIL import Image

__all__ = ['ImageDecodeError', 'BadImage', 'SKIP_ENV', 'INSTALL_ENV', 'install', 'skip_bad_images',
           'skipping_enabled', 'skipped_count', 'check_image', 'check_dataset']

#: Environment variable that makes training sets skip unreadable images (``1``);
#: dataloader workers and torchrun's processes inherit it.
SKIP_ENV = 'QBHEAT_SKIP_BAD_IMAGES'
#: Set by :func:`install`: a process that imports the plugin with it set installs the
#: checks (the run's spawned workers).
INSTALL_ENV = 'QBHEAT_IMAGE_CHECKS'
_SKIPPED: list[str] = []


class ImageDecodeError(RuntimeError):
    """An image file could not be read or decoded."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f'cannot read image {filename}: {reason}')
        self.filename = filename
        self.reason = reason


def skipping_enabled() -> bool:
    """True when the user asked training sets to skip unreadable images."""
    return os.environ.get(SKIP_ENV, '') == '1'


def skip_bad_images(enabled: bool = True) -> None:
    """Opt in (or out) of skipping unreadable training images, for this process and its
    children."""
    if enabled:
        os.environ[SKIP_ENV] = '1'
    else:
        os.environ.pop(SKIP_ENV, None)


def skipped_count() -> int:
    """How many images this process has skipped so far."""
    return len(_SKIPPED)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f'{type(error).__name__}: {text[-1] if text else ""}'.strip()


def _naming_load(transform: Callable) -> Callable:
    """Wrap ``LoadImageFromFile.transform``: any failure names the file."""
    @functools.wraps(transform)
    def load(self: LoadImageFromFile, results: dict) -> Optional[dict]:
        filename = results.get('img_path')
        try:
            return transform(self, results)
        except ImageDecodeError:
            raise
        except Exception as error:
            raise ImageDecodeError(str(filename), _reason(error)) from error

    load.__wrapped_by_qbheat__ = True
    return load


def _describe(dataset: BaseDataset) -> str:
    parts = [type(dataset).__name__]
    for key in ('data_root', 'ann_file'):
        value = getattr(dataset, key, None)
        if value:
            parts.append(f'{key}={value!r}')
    parts.append('test_mode' if getattr(dataset, 'test_mode', False) else 'train')
    return ', '.join(parts)


def _naming_prepare(prepare: Callable) -> Callable:
    """Wrap ``BaseDataset.prepare_data``: add the dataset to the error, or skip."""
    @functools.wraps(prepare)
    def prepare_data(self: BaseDataset, idx: int) -> Any:
        try:
            return prepare(self, idx)
        except ImageDecodeError as error:
            where = f'{_describe(self)}, index {idx}'
            if skipping_enabled() and not getattr(self, 'test_mode', False):
                _SKIPPED.append(error.filename)
                print_log(f'Skipped unreadable image {error.filename} ({error.reason}) of '
                          f'{where}: {len(_SKIPPED)} skipped so far in this process '
                          f'({SKIP_ENV}=1).', logger='current', level=logging.WARNING)
                return None  # BaseDataset draws another index
            hint = ('' if getattr(self, 'test_mode', False) else
                    f'; to skip such images in training (each one logged), pass '
                    f'--skip-bad-images to tools/train.py or set {SKIP_ENV}=1')
            raise ImageDecodeError(
                error.filename, f'{error.reason} (dataset {where}). Run tools/check_dataset.py '
                f'CONFIG to list every unreadable image{hint}') from error

    prepare_data.__wrapped_by_qbheat__ = True
    return prepare_data


def install() -> None:
    """Patch mmcv's ``LoadImageFromFile`` and MMEngine's ``BaseDataset`` (idempotent).

    mmcv 2.1.0 / mmengine 0.10.7; remove once upstream names the file in decode errors.
    """
    os.environ[INSTALL_ENV] = '1'
    if not getattr(LoadImageFromFile.transform, '__wrapped_by_qbheat__', False):
        LoadImageFromFile.transform = _naming_load(LoadImageFromFile.transform)
    if not getattr(BaseDataset.prepare_data, '__wrapped_by_qbheat__', False):
        BaseDataset.prepare_data = _naming_prepare(BaseDataset.prepare_data)


@dataclass
class BadImage:
    """One unreadable image found by :func:`check_dataset`."""
    split: str
    filename: str
    reason: str


def check_image(filename: str) -> Optional[str]:
    """Why ``filename`` is not a complete, decodable image, or None if it is.

    Reads the whole file: missing and empty files, non-images and truncated files (which
    cv2 decodes silently with a grey bottom, so PIL's full decode is the judge) all fail.
    """
    try:
        with open(filename, 'rb') as f:
            data = f.read()
    except OSError as error:
        return _reason(error)
    if not data:
        return 'empty file (0 bytes)'
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    except Exception as error:
        return _reason(error)
    try:
        if mmcv.imfrombytes(data) is None:
            return 'cv2 cannot decode it'
    except Exception as error:
        return _reason(error)
    return None


def _image_paths(dataset: BaseDataset) -> list[str]:
    paths = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        path = info.get('img_path')
        if path is not None:
            paths.append(str(path))
    return paths


def check_dataset(datasets: dict[str, BaseDataset]) -> tuple[dict[str, int], list[BadImage]]:
    """Read every image of each named dataset; return the counts and the bad images."""
    counts, bad = {}, []
    for split, dataset in datasets.items():
        paths = _image_paths(dataset)
        counts[split] = len(paths)
        for path in paths:
            reason = check_image(path)
            if reason is not None:
                bad.append(BadImage(split, path, reason))
    return counts, bad
