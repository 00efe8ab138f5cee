"""Checks on a COCO detection annotation dict, run before any training starts.

pycocotools and MMDetection accept many broken files silently: a missing ``area`` only
fails deep inside COCOeval, a missing ``info`` crashes ``loadRes`` in some pycocotools
releases, an unknown ``category_id`` is dropped without a word, and duplicate annotation
ids overwrite each other in ``COCO.anns``. :func:`check_coco_annotations` turns each of
these into a ``ValueError`` that names the file and the field.
"""
from collections import Counter
from typing import Any, Optional, Sequence

REQUIRED_TOP_LEVEL = ('info', 'images', 'annotations', 'categories')
REQUIRED_IMAGE_FIELDS = ('id', 'file_name', 'height', 'width')
REQUIRED_ANNOTATION_FIELDS = ('id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd')
REQUIRED_CATEGORY_FIELDS = ('id', 'name')

# Long id lists are cut in messages; the first few are enough to find the problem.
_MAX_LISTED = 5


def _listed(values: Sequence[Any]) -> str:
    shown = ', '.join(repr(v) for v in list(values)[:_MAX_LISTED])
    more = len(values) - _MAX_LISTED
    return f'{shown}, ... ({more} more)' if more > 0 else shown


def _check_records(records: Any, section: str, required: Sequence[str],
                   source: str) -> None:
    if not isinstance(records, list):
        raise ValueError(f'{source}: {section!r} must be a list, got '
                         f'{type(records).__name__}')
    for field in required:
        lacking = [r.get('id', f'#{i}') if isinstance(r, dict) else f'#{i}'
                   for i, r in enumerate(records)
                   if not isinstance(r, dict) or field not in r]
        if lacking:
            raise ValueError(
                f'{source}: {len(lacking)} of {len(records)} {section} lack the required '
                f'field {field!r} (ids: {_listed(lacking)}). Each entry of {section!r} '
                f'needs the fields {list(required)}.')


def _check_unique_ids(records: list, section: str, source: str) -> None:
    duplicates = sorted((i for i, n in Counter(r['id'] for r in records).items() if n > 1),
                        key=repr)
    if duplicates:
        raise ValueError(f'{source}: duplicate ids {_listed(duplicates)} in {section!r}; '
                         "every entry needs a unique 'id'.")


def check_coco_annotations(dataset: Any, source: str,
                           classes: Optional[Sequence[str]] = None) -> None:
    """Raise a ``ValueError`` naming ``source`` and the field if ``dataset`` is unusable.

    Checks, in order: the top-level fields ``info``, ``images``, ``annotations`` and
    ``categories``; the required fields of every image, annotation and category; unique
    image, annotation and category ids; every annotation's ``category_id`` and
    ``image_id`` refer to a listed category and image; ``bbox`` has four numbers; and, if
    ``classes`` is given, every class name is a category of the file (MMDetection maps
    classes to categories by name and silently drops names it cannot find).

    Args:
        dataset (Any): The parsed annotation json.
        source (str): The file it came from, used in the messages.
        classes (Sequence[str], optional): Class names the dataset will look up.
            Defaults to None (not checked).
    """
    if not isinstance(dataset, dict):
        raise ValueError(f'{source}: a COCO annotation file holds a json object, got '
                         f'{type(dataset).__name__}')
    for field in REQUIRED_TOP_LEVEL:
        if field not in dataset:
            hint = (' (pycocotools needs it in loadRes; write "info": {} if there is '
                    'nothing to say)' if field == 'info' else '')
            raise ValueError(f'{source}: missing the top-level field {field!r}{hint}. '
                             f'Required top-level fields: {list(REQUIRED_TOP_LEVEL)}.')

    images, annotations = dataset['images'], dataset['annotations']
    categories = dataset['categories']
    _check_records(images, 'images', REQUIRED_IMAGE_FIELDS, source)
    _check_records(annotations, 'annotations', REQUIRED_ANNOTATION_FIELDS, source)
    _check_records(categories, 'categories', REQUIRED_CATEGORY_FIELDS, source)
    _check_unique_ids(images, 'images', source)
    _check_unique_ids(annotations, 'annotations', source)
    _check_unique_ids(categories, 'categories', source)

    category_ids = {c['id'] for c in categories}
    unknown = sorted({a['category_id'] for a in annotations} - category_ids, key=repr)
    if unknown:
        raise ValueError(f'{source}: annotations use unknown category ids '
                         f"{_listed(unknown)} in 'category_id'; the categories are "
                         f'{_listed(sorted(category_ids, key=repr))}.')
    image_ids = {i['id'] for i in images}
    orphans = sorted({a['image_id'] for a in annotations} - image_ids, key=repr)
    if orphans:
        raise ValueError(f"{source}: annotations refer to unknown image ids "
                         f"{_listed(orphans)} in 'image_id'.")
    bad_boxes = [a['id'] for a in annotations
                 if not isinstance(a['bbox'], (list, tuple)) or len(a['bbox']) != 4]
    if bad_boxes:
        raise ValueError(f"{source}: 'bbox' must be [x, y, width, height]; annotations "
                         f'{_listed(bad_boxes)} have something else.')

    if classes is not None:
        names = {c['name'] for c in categories}
        missing = [c for c in classes if c not in names]
        if missing:
            raise ValueError(
                f"{source}: the dataset's classes {_listed(missing)} are not category "
                f"names of the file ({_listed(sorted(names))}); set the dataset's "
                "metainfo=dict(classes=...) to the file's category names.")
