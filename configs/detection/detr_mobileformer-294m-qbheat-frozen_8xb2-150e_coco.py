# DETR on COCO 2017 with a FROZEN Mobile-Former-294M pre-trained by QB-Heat (the paper's
# frozen-backbone detection protocol). The expanded stride-32 map (1152 channels) goes
# through a ChannelMapper to the DETR transformer; the backbone is frozen entirely
# (frozen_stages=5) with BatchNorm in eval mode, so only the neck, the transformer and the
# head learn. The rest is MMDetection's DETR recipe (AdamW 1e-4, 150 epochs, lr x 0.1 at
# epoch 100, 8 GPUs x 2 images).
#
#   bash tools/dist_train.sh configs/detection/detr_mobileformer-294m-qbheat-frozen_8xb2-150e_coco.py 8
#
# The backbone loads the last checkpoint of the entry-point pre-training (below; another
# one with --cfg-options model.backbone.init_cfg.checkpoint=PATH): a full QB-Heat
# checkpoint or the output of tools/model_converters/extract_backbone.py (prefix 'auto'
# handles both). Every backbone key must load or the run stops before training listing
# the missing / unexpected keys; without the checkpoint file it stops too (never a random
# backbone). The baselines are the '-supervised-' and '-mocov2-' configs next to this
# one, which change only the checkpoint. Data: data/coco/ in MMDetection's
# layout (annotations/instances_{train,val}2017.json, train2017/, val2017/).
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

model = dict(
    type='DETR',
    num_queries=100,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='mmpretrain.MobileFormer',
        arch='294m',
        out_indices=(4, ),  # the expanded stride-32 map, 1152 channels
        frozen_stages=5,  # everything: tokens, stem, blocks, final bridge and expansion
        norm_eval=True,
        # The last checkpoint of `python tools/train.py configs/qbheat_mobileformer_in1k.py`.
        init_cfg=dict(type='StrictPretrained', prefix='auto',
                      checkpoint='work_dirs/qbheat_mobileformer_in1k/epoch_300.pth')),
    neck=dict(
        type='ChannelMapper',
        in_channels=[1152],
        kernel_size=1,
        out_channels=256,
        act_cfg=None,
        norm_cfg=None,
        num_outs=1),
    encoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2, ffn_drop=0.1,
                         act_cfg=dict(type='ReLU', inplace=True)))),
    decoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            cross_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2, ffn_drop=0.1,
                         act_cfg=dict(type='ReLU', inplace=True))),
        return_intermediate=True),
    positional_encoding=dict(num_feats=128, normalize=True),
    bbox_head=dict(
        type='DETRHead',
        num_classes=80,
        embed_dims=256,
        loss_cls=dict(type='CrossEntropyLoss', bg_cls_weight=0.1, use_sigmoid=False,
                      loss_weight=1.0, class_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=1.),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0)
            ])),
    test_cfg=dict(max_per_img=100))

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
