# Demo linear probe (a few minutes on 2 CPU cores): which of the 8 bundled photographs a
# 128 px crop comes from, on the frozen backbone of the demo QB-Heat pre-training.
#
#   python tools/train.py configs/qbheat_mobileformer_demo.py        # -> work_dirs/qbheat_demo
#   python tools/train.py configs/probing/linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/qbheat_demo/iter_800.pth
#
# Control (the same probe on a randomly initialised backbone, Mobile-Former's reference
# init): --cfg-options model.backbone.init_cfg=None
#
# The head is the ImageNet linear probe's (pool, BatchNorm without affine, linear), and so
# is the base lr rule (0.1 x batch / 256), but with SGD: LARS is a large-batch optimiser
# and the demo has 10 batches of 32 per epoch.
_base_ = ['../_base_/models/mobileformer-294m_frozen.py',
          '../_base_/datasets/demo-photos_probe-128px.py',
          '../_base_/schedules/probe_12e.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

model = dict(
    data_preprocessor=dict(num_classes=8),
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck', input_features=1152, affine=False),
    ],
    head=dict(
        type='LinearClsHead',
        num_classes=8,
        in_channels=1152,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, ),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=0.01)))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1 * 32 / 256, momentum=0.9, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=11, eta_min=0.0, by_epoch=True, begin=1, end=12,
         convert_to_iter_based=True),
]

# ---- loops: configs/_base_/schedules/probe_12e.py -----------------------------------

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=12, max_keep_ckpts=1))
randomness = dict(seed=0)
