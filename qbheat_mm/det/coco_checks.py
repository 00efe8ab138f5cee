"""Checks on a COCO detection annotation dict, run before any training starts.

pycocotools and MMDetection accept many broken files silently: a missing ``area`` only
fails deep inside COCOeval, a missing ``info`` crashes ``loadRes`` in some pycocotools
releases, an unknown ``category_id`` is dropped without a word, and duplicate annotation
ids overwrite each other in ``COCO.anns``; a box of no area or outside its image is
dropped in training without a word and scored as an unmatchable ground truth in testing;
a file with no annotations trains on nothing and tests to an mAP of -1.
:func:`check_coco_annotations` turns each of these into a ``ValueError`` that names the
file and the field (degenerate boxes may instead be dropped, explicitly, and counted).
"""
from collections import Counter
import logging
from typing import Any, Optional, Sequence

from mmengine.logging import print_log

REQUIRED_TOP_LEVEL = ('info', 'images', 'annotations', 'categories')
REQUIRED_IMAGE_FIELDS = ('id', 'file_name', 'height', 'width')
REQUIRED_ANNOTATION_FIELDS = ('id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd')
REQUIRED_CATEGORY_FIELDS = ('id', 'name')

# Long id lists are cut in messages; the first few are enough to find the problem.
_MAX_LISTED = 5
#: What to do with degenerate boxes: stop (default), or drop them with a counted warning.
DEGENERATE_BOXES = ('error', 'drop')
#: How far (pixels) a box may reach outside its image before it counts as degenerate:
#: annotation tools round corners outwards by up to a pixel.
OUTSIDE_TOLERANCE = 1.0


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


def degenerate_boxes(annotations: list, images: dict) -> list[tuple]:
    """``(annotation, why)`` for every box of no positive width or height, or reaching
    more than :data:`OUTSIDE_TOLERANCE` pixels outside its image (``images``: id -> image
    record)."""
    found = []
    for a in annotations:
        x, y, w, h = (float(v) for v in a['bbox'])
        image = images[a['image_id']]
        if w <= 0 or h <= 0:
            found.append((a, 'no positive width or height'))
        elif (x < -OUTSIDE_TOLERANCE or y < -OUTSIDE_TOLERANCE
              or x + w > image['width'] + OUTSIDE_TOLERANCE
              or y + h > image['height'] + OUTSIDE_TOLERANCE):
            found.append((a, f"outside the {image['width']} x {image['height']} image"))
    return found


def check_coco_annotations(dataset: Any, source: str,
                           classes: Optional[Sequence[str]] = None,
                           degenerate: str = 'error') -> None:
    """Raise a ``ValueError`` naming ``source`` and the field if ``dataset`` is unusable.

    Checks, in order: the top-level fields ``info``, ``images``, ``annotations`` and
    ``categories``; the required fields of every image, annotation and category; unique
    image, annotation and category ids; every annotation's ``category_id`` and
    ``image_id`` refer to a listed category and image; ``bbox`` has four numbers; there
    is at least one annotation; no box is degenerate (:func:`degenerate_boxes`); and, if
    ``classes`` is given, every class name is a category of the file (MMDetection maps
    classes to categories by name and silently drops names it cannot find).

    Args:
        dataset (Any): The parsed annotation json. With ``degenerate='drop'`` its
            degenerate annotations are removed from it, in place.
        source (str): The file it came from, used in the messages.
        classes (Sequence[str], optional): Class names the dataset will look up.
            Defaults to None (not checked).
        degenerate (str): ``'error'`` (default) stops on degenerate boxes, listing each
            (annotation id, image id, box); ``'drop'`` removes them and logs their count
            at WARNING.
    """
    if degenerate not in DEGENERATE_BOXES:
        raise ValueError(f'degenerate must be one of {DEGENERATE_BOXES}, got {degenerate!r}')
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
    if not annotations:
        raise ValueError(f'{source} holds no annotations ({len(images)} images): training '
                         'on it learns nothing and testing on it reports an mAP of -1. Is '
                         'it the right file (instances_*.json, not image_info_*.json)?')
    broken = degenerate_boxes(annotations, {i['id']: i for i in images})
    if broken and degenerate == 'error':
        listed = '; '.join(f"annotation {a['id']} of image {a['image_id']}, bbox "
                           f"{a['bbox']}: {why}" for a, why in broken[:_MAX_LISTED])
        more = len(broken) - _MAX_LISTED
        raise ValueError(
            f'{source}: {len(broken)} of {len(annotations)} annotations have degenerate '
            f'boxes ({listed}{f"; ... and {more} more" if more > 0 else ""}). MMDetection '
            'drops them in training without a word and scores them as unmatchable ground '
            'truths in testing. Fix or remove them, or drop them explicitly with the '
            "dataset's degenerate_boxes='drop' (counted in a warning).")
    if broken:
        gone = {id(a) for a, _ in broken}
        annotations[:] = [a for a in annotations if id(a) not in gone]
        print_log(f"{source}: dropped {len(broken)} of {len(broken) + len(annotations)} "
                  "annotations with degenerate boxes (degenerate_boxes='drop').",
                  logger='current', level=logging.WARNING)

    if classes is not None:
        names = {c['name'] for c in categories}
        missing = [c for c in classes if c not in names]
        if missing:
            raise ValueError(
                f"{source}: the dataset's classes {_listed(missing)} are not category "
                f"names of the file ({_listed(sorted(names))}); set the dataset's "
                "metainfo=dict(classes=...) to the file's category names.")
