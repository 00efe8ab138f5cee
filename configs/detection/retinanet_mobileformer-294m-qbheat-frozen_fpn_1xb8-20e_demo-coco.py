# Demo: RetinaNet with a FROZEN Mobile-Former-294M from the demo QB-Heat checkpoint, trained
# and evaluated (MMDetection's CocoMetric, i.e. pycocotools COCOeval) on the generated demo
# detection set: four objects cut from scikit-image's bundled photographs pasted onto
# others, 200 train / 50 val images of 128-160 px in data/demo_coco/ (made on first use).
# About 2.5 minutes on 2 CPU cores. Run the QB-Heat demo first (configs/qbheat_mobileformer_demo.py);
# its checkpoint is `qbheat_demo_checkpoint` below, or pass another one:
#
#   python tools/train.py configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py
#   python tools/test.py configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py \
#       work_dirs/retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco/epoch_20.pth
#   ... --cfg-options model.backbone.init_cfg.checkpoint=PATH        (another backbone)
#
# Smaller than the COCO recipe where CPU time asks for it: a 64-channel FPN and head with 2
# convs, AdamW, 20 epochs; score_thr=0 so COCOeval sees every box even from a weak model.
_base_ = [
    'mmdet::_base_/default_runtime.py',
    './_base_/demo-coco_detection.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
default_scope = 'mmdet'

qbheat_demo_checkpoint = 'work_dirs/qbheat_demo/iter_800.pth'
max_epochs = 20

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
        frozen_stages=5,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=qbheat_demo_checkpoint,
                      prefix='auto')),
    neck=dict(
        type='FPN',
        in_channels=[48, 128, 1152],
        out_channels=64,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(
        type='RetinaHead',
        num_classes=4,
        in_channels=64,
        stacked_convs=2,
        feat_channels=64,
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
        sampler=dict(type='PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.0,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
randomness = dict(seed=0)
