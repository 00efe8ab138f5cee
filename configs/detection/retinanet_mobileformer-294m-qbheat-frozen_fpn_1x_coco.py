# RetinaNet on COCO 2017 with a FROZEN Mobile-Former-294M pre-trained by QB-Heat (the
# paper's frozen-backbone detection protocol). An FPN takes the stride 8 / 16 / 32 outputs
# (out_indices 1, 2 and 4: 48, 128 and the expanded 1152 channels) and adds P6 and P7
# from the stride-32 map; the backbone is frozen entirely (frozen_stages=5) with BatchNorm
# in eval mode, so only the FPN and the head learn. The rest is MMDetection's RetinaNet 1x
# recipe (SGD 0.01, 12 epochs, lr x 0.1 at epochs 8 and 11, 8 GPUs x 2 images).
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py 8
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
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
default_scope = 'mmdet'

model = dict(
    type='RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='mmpretrain.MobileFormer',
        arch='294m',
        out_indices=(1, 2, 4),  # strides 8, 16, 32 (the last one the expanded map)
        frozen_stages=5,  # everything: tokens, stem, blocks, final bridge and expansion
        norm_eval=True,
        # The last checkpoint of `python tools/train.py configs/qbheat_mobileformer_in1k.py`.
        init_cfg=dict(type='StrictPretrained', prefix='auto',
                      checkpoint='work_dirs/qbheat_mobileformer_in1k/epoch_300.pth')),
    neck=dict(
        type='FPN',
        in_channels=[48, 128, 1152],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_input',  # P6, P7 from the stride-32 map
        num_outs=5),
    bbox_head=dict(
        type='RetinaHead',
        num_classes=80,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                      min_pos_iou=0, ignore_iof_thr=-1),
        sampler=dict(type='PseudoSampler'),  # focal loss weighs all anchors
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))

# CheckedCocoDataset: CocoDataset that stops with the file and field named when the json
# lacks info / area / iscrowd / bbox, uses unknown category ids or repeats annotation ids.
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
