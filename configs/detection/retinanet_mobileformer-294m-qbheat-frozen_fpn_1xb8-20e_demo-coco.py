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
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/default_runtime.py',
    './_base_/demo-coco_detection.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

qbheat_demo_checkpoint = 'work_dirs/qbheat_demo/iter_800.pth'
max_epochs = 20

# MMDetection's RetinaNet with the backbone replaced and a smaller FPN and head. The head
# and its focal loss are MMDetection's with torchvision's NMS and the loss's PyTorch path
# on every device (qbheat_mm/det/fallbacks.py): the same boxes and losses, and no need
# for mmcv's CUDA kernels on a GPU.
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.MobileFormer',
        arch='294m',
        out_indices=(1, 2, 4),  # strides 8, 16, 32 (the last one the expanded map)
        frozen_stages=5,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=qbheat_demo_checkpoint,
                      prefix='auto')),
    neck=dict(in_channels=[48, 128, 1152], out_channels=64, start_level=0),
    bbox_head=dict(type='TorchNMSRetinaHead', num_classes=4, in_channels=64, stacked_convs=2,
                   feat_channels=64, loss_cls=dict(type='TorchSigmoidFocalLoss')),
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
