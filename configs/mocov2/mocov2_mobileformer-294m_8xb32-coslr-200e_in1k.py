# The paper's contrastive baseline: MoCo-v2 pre-training of the same Mobile-Former-294M
# encoder, with MMPretrain's MoCo and the MoCo-v2 recipe (224 px two-view augmentation,
# 2-layer MLP projector, temperature 0.2, queue 65,536, SGD lr 0.03 for batch 256, cosine,
# 200 epochs). Its checkpoint goes through the same probes and detectors as QB-Heat's
# (the encoder's keys are 'backbone.*' in both).
#
#   tools/dist_train.sh configs/mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py 8
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model --------------------------------------------------------------------------
model = dict(
    type='MoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # MMPretrain's EMA convention: 1 - 0.999
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(type='MobileFormer', arch='294m', out_indices=(4, )),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=1152,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))

# ---- data: MoCo-v2 augmentation, two views per image ---------------------------------
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,  # per GPU: 8 x 32 = 256
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))

# ---- schedule -----------------------------------------------------------------------
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=256)

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
env_cfg = dict(cudnn_benchmark=True)
randomness = dict(seed=0, diff_rank_seed=True)
