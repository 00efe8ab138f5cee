# Shared by the ImageNet-1k probes: data at 224 px, evaluation and runtime.
# The probe configs that inherit from this file write their model and recipe in full.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- data: MAE linear-probing augmentation (random resized crop + flip) -------------
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
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
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# ---- loops --------------------------------------------------------------------------
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# The recipes' learning rates are written for 8 x 128; --auto-scale-lr rescales them.
auto_scale_lr = dict(base_batch_size=1024)

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='accuracy/top1'))
env_cfg = dict(cudnn_benchmark=True)
randomness = dict(seed=0)
