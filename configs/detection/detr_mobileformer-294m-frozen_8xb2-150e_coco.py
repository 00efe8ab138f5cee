# DETR on COCO 2017 with a FROZEN Mobile-Former-294M (the paper's frozen-backbone
# detection protocol), for any pre-training: the detector is configs/_base_/models/
# detr_mobileformer-294m-frozen.py (only the neck, the transformer and the head learn),
# the rest MMDetection's DETR recipe (AdamW 1e-4, 150 epochs, lr x 0.1 at epoch 100,
# 8 GPUs x 2 images). The backbone's checkpoint is required:
#
#   bash tools/dist_train.sh configs/detection/detr_mobileformer-294m-frozen_8xb2-150e_coco.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
#
# The '-qbheat-', '-mocov2-' and '-supervised-' configs next to this one set CKPT to the
# last checkpoint of each pre-training recipe, and change nothing else. Data: data/coco/
# in MMDetection's layout (annotations/instances_{train,val}2017.json, train2017/,
# val2017/).
_base_ = [
    '../_base_/models/detr_mobileformer-294m-frozen.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

# DETR's multi-scale training: shorter side 480..800 (step 32), or a random crop first.
detr_scales = [(short, 1333) for short in range(480, 801, 32)]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=detr_scales, keep_ratio=True)],
            [
                dict(type='RandomChoiceResize',
                     scales=[(400, 1333), (500, 1333), (600, 1333)], keep_ratio=True),
                dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
                     allow_negative_crop=True),
                dict(type='RandomChoiceResize', scales=detr_scales, keep_ratio=True),
            ],
        ]),
    dict(type='PackDetInputs'),
]
# CheckedCocoDataset: CocoDataset that stops with the file and field named when the json
# lacks info / area / iscrowd / bbox, uses unknown category ids or repeats annotation ids.
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2))

max_epochs = 150
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[100],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))

# base_batch_size = 8 GPUs x 2 images; --auto-scale-lr rescales for other setups.
auto_scale_lr = dict(base_batch_size=16)
