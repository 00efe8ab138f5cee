# Supervised ImageNet-1k training of Mobile-Former-294M with the reference recipe
# (AAboys/MobileFormer README, timm 0.3.4 train.py): 450 epochs, AdamW lr 1e-3, weight
# decay 0.2, cosine schedule, batch 8 x 128, 224 px bilinear, crop 0.875, dropout 0.3,
# mixup 0.2, RandAugment m9-mstd0.5, random erasing 0.2 (per-pixel noise), drop path 0,
# no colour jitter. Published: 77.9% top-1, 11.4M parameters, 294M MACs.
#
#   tools/dist_train.sh configs/mobileformer/mobileformer-294m_8xb128_in1k.py 8
#   python tools/test.py configs/mobileformer/mobileformer-294m_8xb128_in1k.py CKPT
#
# CKPT may be a converted reference checkpoint
# (tools/model_converters/mobileformer_official_to_mmpretrain.py). Data in MMPretrain's
# ImageNet layout: data/imagenet/{train,val}/ with meta/{train,val}.txt.
#
# Carried over from timm's defaults (the reference command leaves them unset): label
# smoothing 0.1, 3 warm-up epochs from lr 1e-4, minimum lr 1e-5, AdamW without weight
# decay on norms and biases. Not carried over: timm's 10 extra cool-down epochs at the
# minimum lr (its run is 460 epochs in all) and its random choice between bilinear and
# bicubic resizing during training; we use the published 450 epochs and bilinear.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model --------------------------------------------------------------------------
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    # The head reads the expanded stride-32 map and the global tokens (token 0).
    backbone=dict(
        type='MobileFormer',
        arch='294m',
        out_indices=(4, ),
        with_tokens=True,
        drop_path_rate=0.),
    neck=None,
    head=dict(
        type='MobileFormerClsHead',
        num_classes=1000,
        in_channels=1152,
        token_dims=192,
        hidden_channels=1920,
        dropout=0.3,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)),
    # Mixup with alpha 0.2 on every batch (no CutMix), as timm's --mixup 0.2.
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.2)))

# ---- data ---------------------------------------------------------------------------
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
# timm's 'rand-m9-mstd0.5' uses its original (not '-inc1' increasing) op set, which
# MMPretrain's 'timm_increasing' preset does not reproduce: Posterize, Solarize and the
# four enhance ops get stronger in the other direction. Level m of 10 maps to:
# posterize bits int(4m/10), solarize threshold 256m/10, enhance factor 0.1 + 1.8m/10.
# MMPretrain rounds the posterize bits up where timm truncates, hence its range (-1, 3).
rand_augment_policies = [
    dict(type='AutoContrast'),
    dict(type='Equalize'),
    dict(type='Invert'),
    dict(type='Rotate', magnitude_range=(0, 30)),
    dict(type='Posterize', magnitude_range=(-1, 3)),
    dict(type='Solarize', magnitude_range=(0, 256)),
    dict(type='SolarizeAdd', magnitude_range=(0, 110)),
    dict(type='ColorTransform', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Contrast', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Brightness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Sharpness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='horizontal'),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='vertical'),
    dict(type='Translate', magnitude_range=(0, 0.45), direction='horizontal'),
    dict(type='Translate', magnitude_range=(0, 0.45), direction='vertical'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies=rand_augment_policies,
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean],
                     interpolation='bilinear')),
    # timm --remode pixel --reprob 0.2: one box filled with per-pixel normal noise.
    dict(
        type='RandomErasing',
        erase_prob=0.2,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # crop 0.875: 224 / 0.875 = 256
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,  # per GPU: 8 x 128 = 1024
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
# tools/test.py evaluates on ImageNet val, like the published numbers.
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# ---- schedule -----------------------------------------------------------------------
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.2),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=447, eta_min=1e-5, by_epoch=True, begin=3,
         end=450, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=450, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The learning rate is written for 8 x 128; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=1024)

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    logger=dict(interval=200),
    checkpoint=dict(interval=10, max_keep_ckpts=3, save_best='accuracy/top1'))
env_cfg = dict(cudnn_benchmark=True)
