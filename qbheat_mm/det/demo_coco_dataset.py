"""``DemoCocoDataset``: the generated demo detection set, created on first use."""
from typing import Optional

from mmdet.registry import DATASETS

from .checked_coco_dataset import CheckedCocoDataset
from .demo_coco import DEMO_CLASSES, prepare_demo_coco


@DATASETS.register_module()
class DemoCocoDataset(CheckedCocoDataset):
    """The demo set of :func:`qbheat_mm.det.demo_coco.prepare_demo_coco`, generated into
    ``data_root`` when the dataset is first loaded, then read as a checked COCO dataset.

    Generation happens in ``full_init`` rather than ``__init__``: tools that build the
    dataset with ``lazy_init=True`` only for its class names (``DetInferencer``) do not
    write anything.

    Args:
        demo_settings (dict, optional): Generator settings passed to
            ``prepare_demo_coco`` (``num_train``, ``num_val``, ``image_size``, ...).
            Defaults to None (its defaults).
        **kwargs: Arguments of MMDetection's ``CocoDataset``; ``data_root`` is required.
    """

    METAINFO = dict(classes=DEMO_CLASSES,
                    palette=[(220, 20, 60), (0, 0, 230), (255, 179, 0), (0, 160, 80)])

    def __init__(self, *args, demo_settings: Optional[dict] = None, **kwargs) -> None:
        if not kwargs.get('data_root'):
            raise ValueError('DemoCocoDataset needs data_root (the folder to generate the '
                             "demo set into, e.g. 'data/demo_coco/')")
        self.demo_settings = dict(demo_settings or {})
        super().__init__(*args, **kwargs)

    def full_init(self) -> None:
        if not self._fully_initialized:
            prepare_demo_coco(self.data_root, **self.demo_settings)
        super().full_init()
