# Demo: DETR with a FROZEN Mobile-Former-294M from the demo QB-Heat checkpoint, trained and
# evaluated (MMDetection's CocoMetric, i.e. pycocotools COCOeval) on the generated demo
# detection set: four objects cut from scikit-image's bundled photographs pasted onto
# others, 200 train / 50 val images of 128-160 px in data/demo_coco/ (made on first use).
# About 4 minutes on 2 CPU cores. Run the QB-Heat demo first (configs/qbheat_mobileformer_demo.py);
# its checkpoint is `qbheat_demo_checkpoint` below, or pass another one:
#
#   python tools/train.py configs/detection/detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco.py
#   python tools/test.py configs/detection/detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco.py \
#       work_dirs/detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco/epoch_40.pth
#   ... --cfg-options model.backbone.init_cfg.checkpoint=PATH        (another backbone)
#
# Smaller than the COCO recipe where CPU time asks for it: a 128-d transformer with 2 encoder
# and 2 decoder layers, 20 queries, no dropout, 40 epochs at lr 2e-4 (1e-3 diverged). DETR
# learns slowly (its COCO recipe is 150 epochs): 1,000 iterations give bbox mAP about 0.01,
# where the RetinaNet demo reaches about 0.5; the point here is the pipeline, scored for real.
_base_ = [
    'mmdet::_base_/default_runtime.py',
    './_base_/demo-coco_detection.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

qbheat_demo_checkpoint = 'work_dirs/qbheat_demo/iter_800.pth'
max_epochs = 40
embed_dims = 128

model = dict(
    type='DETR',
    num_queries=20,
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
        frozen_stages=5,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=qbheat_demo_checkpoint,
                      prefix='auto')),
    neck=dict(
        type='ChannelMapper',
        in_channels=[1152],
        kernel_size=1,
        out_channels=embed_dims,
        act_cfg=None,
        norm_cfg=None,
        num_outs=1),
    encoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, num_heads=8, dropout=0.0,
                               batch_first=True),
            ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=4 * embed_dims,
                         num_fcs=2, ffn_drop=0.0, act_cfg=dict(type='ReLU', inplace=True)))),
    decoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, num_heads=8, dropout=0.0,
                               batch_first=True),
            cross_attn_cfg=dict(embed_dims=embed_dims, num_heads=8, dropout=0.0,
                                batch_first=True),
            ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=4 * embed_dims,
                         num_fcs=2, ffn_drop=0.0, act_cfg=dict(type='ReLU', inplace=True))),
        return_intermediate=True),
    positional_encoding=dict(num_feats=embed_dims // 2, normalize=True),
    bbox_head=dict(
        type='DETRHead',
        num_classes=4,
        embed_dims=embed_dims,
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
    test_cfg=dict(max_per_img=20))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[int(max_epochs * 0.8)], gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
randomness = dict(seed=0)
