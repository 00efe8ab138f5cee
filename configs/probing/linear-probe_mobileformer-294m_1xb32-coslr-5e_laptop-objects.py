# Linear probe of a frozen Mobile-Former-294M on the laptop objects (16 classes, 768 train /
# 256 val images of 128 px): the demo linear probe's head and optimiser (pool, BatchNorm
# without affine, linear; SGD with the 0.1 x batch / 256 rule) for 5 epochs. The checkpoint is required
# (a pre-training checkpoint or an extracted backbone); the random control is
# --cfg-options model.backbone.init_cfg=None.
#
#   python tools/train.py configs/probing/linear-probe_mobileformer-294m_1xb32-coslr-5e_laptop-objects.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = ['../_base_/models/mobileformer-294m_frozen.py',
          '../_base_/datasets/laptop-objects.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- data: configs/_base_/datasets/laptop-objects.py, in epochs of 32 images -------
train_dataloader = dict(batch_size=32, sampler=dict(type='DefaultSampler'))
val_dataloader = dict(batch_size=32)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='LaptopObjectsDataset', split='val', pipeline={{_base_.val_pipeline}}))
test_evaluator = val_evaluator

model = dict(
    data_preprocessor=dict(num_classes=16),
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck', input_features=1152, affine=False),
    ],
    head=dict(
        type='LinearClsHead',
        num_classes=16,
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
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=1, end=5,
         convert_to_iter_based=True),
]

# ---- loops: 24 iterations per epoch -------------------------------------------------
train_cfg = dict(by_epoch=True, max_epochs=5, val_interval=5)
val_cfg = dict()
test_cfg = dict()

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
work_dir = None
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
