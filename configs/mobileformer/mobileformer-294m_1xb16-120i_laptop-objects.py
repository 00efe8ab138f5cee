# Supervised pre-training of Mobile-Former-294M at laptop scale: the classifier of
# configs/mobileformer/ (its head reads the map and the global tokens) trained on the
# laptop objects' 16 labels, with the same budget as the QB-Heat laptop run (120
# iterations of 16 images). Changed for a run of about a hundred iterations, and only that:
# 128 px crops and flips instead of RandAugment, random erasing and mixup (which slow
# learning down in a run this short), AdamW lr 1e-3, weight decay 0.05, 12-iteration
# warm-up and cosine. Validation (top-1 on the val split) at the end.
#
#   python tools/train.py configs/mobileformer/mobileformer-294m_1xb16-120i_laptop-objects.py
_base_ = ['../_base_/models/mobileformer-294m.py',
          '../_base_/datasets/laptop-objects.py',
          '../_base_/schedules/laptop-objects_budget.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model: configs/_base_/models/mobileformer-294m.py, except ------------------------
model = dict(
    data_preprocessor=dict(num_classes=16),
    head=dict(num_classes=16, topk=(1, )),
    train_cfg=None)  # no mixup

# ---- data: configs/_base_/datasets/laptop-objects.py --------------------------------
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = {{_base_.val_dataloader}}
test_evaluator = val_evaluator

# ---- schedule -----------------------------------------------------------------------
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=12),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={{_base_.laptop_pretrain_iters}},
                 val_interval={{_base_.laptop_pretrain_iters}})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(base_batch_size=16)

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval={{_base_.laptop_pretrain_iters}},
                    max_keep_ckpts=1))
custom_hooks = [{{_base_.laptop_knn_monitor}}]
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False)
