"""``CheckedCocoDataset``: MMDetection's ``CocoDataset`` that validates its json first."""
from typing import Optional, Sequence

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS

from .coco_checks import check_coco_annotations


class CheckedCOCO(COCO):
    """MMDetection's COCO api that runs :func:`check_coco_annotations` before indexing.

    Checking between ``json.load`` and ``createIndex`` reads the file once (COCO
    train2017's json is about 450 MB) and catches duplicate ids before the index
    silently overwrites them.

    Args:
        annotation_file (str): Local path of the json to load.
        source (str, optional): The name to report in errors (the configured
            ``ann_file``, which may differ from the local copy). Defaults to
            ``annotation_file``.
        classes (Sequence[str], optional): Class names that must be categories of the
            file. Defaults to None (not checked).
        degenerate_boxes (str): ``'error'`` (default) or ``'drop'``; see
            :func:`~qbheat_mm.det.coco_checks.check_coco_annotations`.
    """

    def __init__(self, annotation_file: str, source: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 degenerate_boxes: str = 'error') -> None:
        self._source = source or annotation_file
        self._classes = classes
        self._degenerate = degenerate_boxes
        super().__init__(annotation_file)

    def createIndex(self) -> None:  # noqa: N802  (pycocotools' name)
        check_coco_annotations(self.dataset, self._source, self._classes, self._degenerate)
        super().createIndex()


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """``CocoDataset`` that raises a ``ValueError`` naming the file and the field for a
    broken annotation json, when the dataset is built (before training starts).

    Takes the arguments of MMDetection's ``CocoDataset``, and ``degenerate_boxes``
    (``'error'``, default: a box of no area or outside its image stops with each one
    named; ``'drop'``: such annotations are removed and counted in a warning). The checks
    are those of :func:`qbheat_mm.det.coco_checks.check_coco_annotations`, including that
    the file has annotations and that every class in ``metainfo`` is a category name of it.
    """

    def __init__(self, *args, degenerate_boxes: str = 'error', **kwargs) -> None:
        self.degenerate_boxes = degenerate_boxes
        super().__init__(*args, **kwargs)

    def COCOAPI(self, local_path: str) -> CheckedCOCO:  # noqa: N802
        # CocoDataset.load_data_list calls ``self.COCOAPI(local_path)``; as a method it
        # can pass the configured file name, the class names and the choice along.
        return CheckedCOCO(local_path, source=str(self.ann_file),
                           classes=self.metainfo['classes'],
                           degenerate_boxes=self.degenerate_boxes)
