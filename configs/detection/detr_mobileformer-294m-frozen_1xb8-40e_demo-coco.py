# Demo: DETR with a FROZEN Mobile-Former-294M, for any pre-training, trained and evaluated
# (MMDetection's CocoMetric, i.e. pycocotools COCOeval) on the generated demo detection
# set: four objects cut from scikit-image's bundled photographs pasted onto others, 200
# train / 50 val images of 128-160 px in data/demo_coco/ (made on first use). About 4
# minutes on 2 CPU cores. The detector is configs/_base_/models/detr_mobileformer-294m-
# frozen.py; the backbone's checkpoint is required (init_cfg=None for the random-init
# control):
#
#   python tools/train.py configs/detection/detr_mobileformer-294m-frozen_1xb8-40e_demo-coco.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
#
# The '-qbheat-' config next to this one sets CKPT to the QB-Heat demo's checkpoint.
# Smaller than the COCO recipe where CPU time asks for it: a 128-d transformer with 2 encoder
# and 2 decoder layers, 20 queries, no dropout, 40 epochs at lr 2e-4 (1e-3 diverged). DETR
# learns slowly (its COCO recipe is 150 epochs): 1,000 iterations give bbox mAP about 0.01,
# where the RetinaNet demo reaches about 0.5; the point here is the pipeline, scored for real.
_base_ = [
    '../_base_/models/detr_mobileformer-294m-frozen.py',
    '../_base_/datasets/demo-coco_detection.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

max_epochs = 40
embed_dims = 128
attn = dict(embed_dims=embed_dims, dropout=0.0)
ffn = dict(embed_dims=embed_dims, feedforward_channels=4 * embed_dims, ffn_drop=0.0)

model = dict(
    num_queries=20,
    neck=dict(out_channels=embed_dims),
    encoder=dict(num_layers=2, layer_cfg=dict(self_attn_cfg=attn, ffn_cfg=ffn)),
    decoder=dict(
        num_layers=2, layer_cfg=dict(self_attn_cfg=attn, cross_attn_cfg=attn, ffn_cfg=ffn)),
    positional_encoding=dict(num_feats=embed_dims // 2),
    bbox_head=dict(num_classes=4, embed_dims=embed_dims),
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
