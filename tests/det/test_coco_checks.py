"""The COCO annotation validator and ``CheckedCocoDataset``: every bad-json case raises a
ValueError that names the field and the file, before any training starts."""
import copy
import json
from pathlib import Path

import pytest

from qbheat_mm.det.checked_coco_dataset import CheckedCOCO
from qbheat_mm.det.coco_checks import check_coco_annotations


def _valid() -> dict:
    return dict(
        info={},
        images=[dict(id=1, file_name='a.png', height=64, width=64),
                dict(id=2, file_name='b.png', height=64, width=48)],
        annotations=[
            dict(id=1, image_id=1, category_id=1, bbox=[1, 2, 30, 20], area=600, iscrowd=0),
            dict(id=2, image_id=2, category_id=2, bbox=[5, 5, 10, 40], area=400, iscrowd=0),
            dict(id=3, image_id=2, category_id=1, bbox=[20, 0, 8, 8], area=64, iscrowd=0),
        ],
        categories=[dict(id=1, name='cat'), dict(id=2, name='cup')])


def _drop_info(d):
    del d['info']


def _drop_ann_field(field):
    def mutate(d):
        del d['annotations'][1][field]
    return mutate


def _unknown_category(d):
    d['annotations'][2]['category_id'] = 7


def _duplicate_ann_id(d):
    d['annotations'][2]['id'] = 1


def _unknown_image(d):
    d['annotations'][0]['image_id'] = 42


def _bad_bbox(d):
    d['annotations'][0]['bbox'] = [1, 2, 3]


BAD_CASES = {
    'missing info': (_drop_info, ["top-level field 'info'", '"info": {}']),
    'missing area': (_drop_ann_field('area'), ["field 'area'", '1 of 3 annotations', 'ids: 2']),
    'missing iscrowd': (_drop_ann_field('iscrowd'), ["field 'iscrowd'", 'ids: 2']),
    'missing bbox': (_drop_ann_field('bbox'), ["field 'bbox'", 'ids: 2']),
    'unknown category': (_unknown_category, ['unknown category ids 7', "'category_id'",
                                             'categories are 1, 2']),
    'duplicate ann id': (_duplicate_ann_id, ["duplicate ids 1 in 'annotations'"]),
    'unknown image': (_unknown_image, ['unknown image ids 42', "'image_id'"]),
    'bbox not xywh': (_bad_bbox, ["'bbox' must be [x, y, width, height]", 'annotations 1']),
}


def test_valid_annotations_pass_and_index(tmp_path: Path):
    check_coco_annotations(_valid(), 'valid.json', classes=('cup', 'cat'))
    path = tmp_path / 'valid.json'
    path.write_text(json.dumps(_valid()))
    coco = CheckedCOCO(str(path))
    assert sorted(coco.anns) == [1, 2, 3]
    assert coco.get_cat_ids(cat_names=['cup']) == [2]


@pytest.mark.parametrize('case', sorted(BAD_CASES))
def test_bad_annotations_name_field_and_file(case: str):
    mutate, expected = BAD_CASES[case]
    data = copy.deepcopy(_valid())
    mutate(data)
    with pytest.raises(ValueError) as err:
        check_coco_annotations(data, 'data/x/instances_val.json')
    message = str(err.value)
    assert message.startswith('data/x/instances_val.json: '), message
    for part in expected:
        assert part in message, f'{part!r} not in {message!r}'


def test_class_names_missing_from_categories():
    with pytest.raises(ValueError, match=r"classes 'dog' are not category names .*'cat', "
                                         r"'cup'.*metainfo=dict\(classes=\.\.\.\)"):
        check_coco_annotations(_valid(), 'f.json', classes=('cat', 'dog'))


def test_not_an_object_and_not_a_list():
    with pytest.raises(ValueError, match='f.json: a COCO annotation file holds a json object'):
        check_coco_annotations([], 'f.json')
    data = _valid()
    data['images'] = {}
    with pytest.raises(ValueError, match="f.json: 'images' must be a list, got dict"):
        check_coco_annotations(data, 'f.json')


def test_long_id_lists_are_cut():
    data = _valid()
    data['annotations'] = [dict(id=i, image_id=1, category_id=1, bbox=[0, 0, 1, 1],
                                iscrowd=0) for i in range(1, 10)]
    with pytest.raises(ValueError, match=r"9 of 9 annotations lack the required field 'area' "
                                         r'\(ids: 1, 2, 3, 4, 5, \.\.\. \(4 more\)\)'):
        check_coco_annotations(data, 'f.json')


def test_checked_dataset_raises_when_built(tmp_path: Path):
    """The error comes from building the dataset, i.e. before the Runner trains."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    import qbheat_mm.det  # noqa: F401  (registers the datasets)
    init_default_scope('mmdet')
    (tmp_path / 'annotations').mkdir()
    good, bad = _valid(), _valid()
    del bad['annotations'][0]['area']
    for name, data in (('good', good), ('bad', bad)):
        (tmp_path / 'annotations' / f'{name}.json').write_text(json.dumps(data))
    cfg = dict(type='CheckedCocoDataset', data_root=str(tmp_path), data_prefix=dict(img=''),
               metainfo=dict(classes=('cat', 'cup')), filter_cfg=None, pipeline=[])

    dataset = DATASETS.build(dict(cfg, ann_file='annotations/good.json'))
    assert len(dataset) == 2
    assert [len(dataset.get_data_info(i)['instances']) for i in range(2)] == [1, 2]

    with pytest.raises(ValueError, match=rf"{tmp_path}/annotations/bad.json: 1 of 3 "
                                         r"annotations lack the required field 'area'"):
        DATASETS.build(dict(cfg, ann_file='annotations/bad.json'))
    # COCO's 80 class names are not the file's categories: MMDetection would silently drop
    # every annotation; the checked dataset says so.
    with pytest.raises(ValueError, match=r"classes 'person', 'bicycle'"):
        DATASETS.build(dict(cfg, ann_file='annotations/good.json', metainfo=None))


@pytest.mark.parametrize('bbox, why', [
    ([5, 5, -3, 10], 'no positive width or height'),
    ([5, 5, 10, 0], 'no positive width or height'),
    ([40, 50, 30, 10], 'outside the 64 x 64 image'),  # reaches x = 70
    ([-2.5, 0, 10, 10], 'outside the 64 x 64 image'),
])
def test_degenerate_boxes_are_named_with_file_ids_and_box(bbox, why):
    data = _valid()
    data['annotations'][0]['bbox'] = bbox
    with pytest.raises(ValueError) as info:
        check_coco_annotations(data, 'instances_train.json')
    message = str(info.value)
    assert message.startswith('instances_train.json: 1 of 3 annotations have degenerate boxes')
    assert f'annotation 1 of image 1, bbox {bbox}: {why}' in message
    assert "degenerate_boxes='drop'" in message


def test_a_box_a_pixel_outside_its_image_is_not_degenerate():
    data = _valid()
    data['annotations'][0]['bbox'] = [-1, 0, 65, 64.5]  # rounded outwards by a pixel
    check_coco_annotations(data, 'f.json')


def test_dropping_degenerate_boxes_is_explicit_and_counted(caplog_mmengine):
    data = _valid()
    data['annotations'][0]['bbox'] = [5, 5, 0, 10]
    data['annotations'][2]['bbox'] = [40, 60, 10, 10]  # image 2 is 64 high
    check_coco_annotations(data, 'f.json', degenerate='drop')
    assert [a['id'] for a in data['annotations']] == [2]
    warning = [r.getMessage() for r in caplog_mmengine if r.levelname == 'WARNING']
    assert warning == ["f.json: dropped 2 of 3 annotations with degenerate boxes "
                       "(degenerate_boxes='drop')."]
    with pytest.raises(ValueError, match="degenerate must be one of"):
        check_coco_annotations(_valid(), 'f.json', degenerate='skip')


def test_a_file_without_annotations_stops():
    data = _valid()
    data['annotations'] = []
    with pytest.raises(ValueError, match=r'f.json holds no annotations \(2 images\): training '
                       r'on it learns nothing and testing on it reports an mAP of -1'):
        check_coco_annotations(data, 'f.json')


def test_the_dataset_takes_the_choice(tmp_path: Path):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    import qbheat_mm.det  # noqa: F401  (registers the datasets)
    init_default_scope('mmdet')
    (tmp_path / 'annotations').mkdir()
    data = _valid()
    data['annotations'][0]['bbox'] = [60, 60, 20, 20]
    (tmp_path / 'annotations' / 'x.json').write_text(json.dumps(data))
    cfg = dict(type='CheckedCocoDataset', data_root=str(tmp_path), data_prefix=dict(img=''),
               ann_file='annotations/x.json', metainfo=dict(classes=('cat', 'cup')),
               filter_cfg=None, pipeline=[])
    with pytest.raises(ValueError, match=r'annotation 1 of image 1, bbox \[60, 60, 20, 20\]'):
        DATASETS.build(cfg)
    dataset = DATASETS.build(dict(cfg, degenerate_boxes='drop'))
    assert [len(dataset.get_data_info(i)['instances']) for i in range(2)] == [0, 2]
