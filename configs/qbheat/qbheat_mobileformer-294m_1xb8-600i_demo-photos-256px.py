# The demo at 256 px: the ImageNet recipe's input size, so the visible quarter is 4 x 4
# feature cells (the 128 px demo has 2 x 2) and the right and bottom quarters lie up to 4
# cells from the visible border. The larger setting of the heat-operator ablation
# (`configs/experiments/`); about 7 minutes per run on 2 quiet CPU cores. The demo's model
# and optimiser (qbheat_mobileformer-294m_1xb16-800i_demo-photos.py), batch 8, 600
# iterations.
_base_ = ['../_base_/models/qbheat_mobileformer-294m.py',
          '../_base_/datasets/demo-photos-256px.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
work_dir = 'work_dirs/qbheat_demo_256px'

# ---- model: configs/_base_/models/qbheat_mobileformer-294m.py ---------------------
# ---- data: configs/_base_/datasets/demo-photos-256px.py ----------------------------

# ---- schedule: the demo's optimiser -------------------------------------------------
max_iters = 600
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters - 50, eta_min=1e-5, by_epoch=False,
         begin=50, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=200)
val_cfg = dict()

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=2))
custom_hooks = [dict(type='QBHeatVisualizationHook', interval=200, num_images=4)]
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
