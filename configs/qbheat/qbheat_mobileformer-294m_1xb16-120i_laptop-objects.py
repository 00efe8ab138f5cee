# QB-Heat pre-training of Mobile-Former-294M at laptop scale (2 CPU cores): the demo's
# model and optimiser (configs/qbheat/...demo-photos.py, itself the ImageNet recipe's
# model at 128 px) on the laptop objects' training split, 120 iterations of 16 images,
# with the k-NN monitor. The frozen-operator control is this config with
# --cfg-options model.neck.freeze_operator=True (configs/experiments/laptop.py does that).
#
#   python tools/train.py configs/qbheat/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py
_base_ = ['../_base_/models/qbheat_mobileformer-294m.py',
          '../_base_/datasets/laptop-objects.py',
          '../_base_/schedules/laptop-objects_budget.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
work_dir = None  # tools/train.py: work_dirs/<config name> unless --work-dir

# ---- model: configs/_base_/models/qbheat_mobileformer-294m.py ---------------------
# ---- data: configs/_base_/datasets/laptop-objects.py, stacked into tensors ----------
train_dataloader = dict(collate_fn=dict(type='default_collate'))
val_dataloader = dict(batch_size=16, collate_fn=dict(type='default_collate'))
val_evaluator = dict(type='ReconstructionMetric')

# ---- schedule: the demo's optimiser, 120 iterations ---------------------------------
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=12),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={{_base_.laptop_pretrain_iters}},
                 val_interval={{_base_.laptop_pretrain_iters}})
val_cfg = dict()

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval={{_base_.laptop_pretrain_iters}},
                    max_keep_ckpts=1))
custom_hooks = [
    dict(type='QBHeatVisualizationHook', interval={{_base_.laptop_pretrain_iters}},
         num_images=4),
    {{_base_.laptop_knn_monitor}},
]
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
