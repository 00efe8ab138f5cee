# RetinaNet on COCO 2017 with a FROZEN Mobile-Former-294M (the paper's frozen-backbone
# detection protocol), for any pre-training: the detector is configs/_base_/models/
# retinanet_mobileformer-294m-frozen_fpn.py (only the FPN and the head learn), the rest
# MMDetection's RetinaNet 1x recipe (SGD 0.01, 12 epochs, lr x 0.1 at epochs 8 and 11,
# 8 GPUs x 2 images). The backbone's checkpoint is required:
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-frozen_fpn_1x_coco.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
#
# The '-qbheat-', '-mocov2-' and '-supervised-' configs next to this one set CKPT to the
# last checkpoint of each pre-training recipe, and change nothing else. Data: data/coco/
# in MMDetection's layout (annotations/instances_{train,val}2017.json, train2017/,
# val2017/).
_base_ = [
    '../_base_/models/retinanet_mobileformer-294m-frozen_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

# CheckedCocoDataset: CocoDataset that stops with the file and field named when the json
# lacks info / area / iscrowd / bbox, uses unknown category ids or repeats annotation ids.
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
