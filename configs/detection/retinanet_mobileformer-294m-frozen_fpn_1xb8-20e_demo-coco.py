# Demo: RetinaNet with a FROZEN Mobile-Former-294M, for any pre-training, trained and
# evaluated (MMDetection's CocoMetric, i.e. pycocotools COCOeval) on the generated demo
# detection set: four objects cut from scikit-image's bundled photographs pasted onto
# others, 200 train / 50 val images of 128-160 px in data/demo_coco/ (made on first use).
# About 2.5 minutes on 2 CPU cores. The detector is configs/_base_/models/
# retinanet_mobileformer-294m-frozen_fpn.py; the backbone's checkpoint is required
# (init_cfg=None for the random-init control):
#
#   python tools/train.py configs/detection/retinanet_mobileformer-294m-frozen_fpn_1xb8-20e_demo-coco.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
#
# The '-qbheat-' config next to this one sets CKPT to the QB-Heat demo's checkpoint.
# Smaller than the COCO recipe where CPU time asks for it: a 64-channel FPN and head with 2
# convs, AdamW, 20 epochs; score_thr=0 so COCOeval sees every box even from a weak model.
_base_ = [
    '../_base_/models/retinanet_mobileformer-294m-frozen_fpn.py',
    '../_base_/datasets/demo-coco_detection.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

max_epochs = 20

model = dict(
    neck=dict(out_channels=64),
    bbox_head=dict(num_classes=4, in_channels=64, stacked_convs=2, feat_channels=64),
    test_cfg=dict(score_thr=0.0))

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
