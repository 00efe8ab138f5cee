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
_base_ = ['../_base_/models/mobileformer-294m.py',
          '../_base_/datasets/imagenet_bs128_mobileformer-224px.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model: configs/_base_/models/mobileformer-294m.py -----------------------------
# ---- data: configs/_base_/datasets/imagenet_bs128_mobileformer-224px.py ------------

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
