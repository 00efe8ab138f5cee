# MoCo-v2 pre-training of Mobile-Former-294M at laptop scale: the project's MoCo-v2 recipe
# (configs/mocov2/, MMPretrain's MoCo) on the laptop objects' training split, with the
# same budget as the QB-Heat laptop run (120 iterations of 16 images). Changed for a run
# of about a hundred iterations on 768 images, and only that: 128 px views, a queue of 512
# keys (the recipe's 65,536 would be mostly empty or stale), key-encoder momentum 0.99
# (0.999 barely moves it in 120 steps), lr 0.03 with a 12-iteration warm-up and cosine.
#
#   python tools/train.py configs/mocov2/mocov2_mobileformer-294m_1xb16-120i_laptop-objects.py
_base_ = ['../_base_/models/mocov2_mobileformer-294m.py',
          '../_base_/datasets/laptop-objects_mocov2.py',
          '../_base_/schedules/laptop-objects_budget.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model: configs/_base_/models/mocov2_mobileformer-294m.py, except ----------------
model = dict(queue_len=512, momentum=0.01)  # MMPretrain's EMA convention: 1 - 0.99

# ---- data: configs/_base_/datasets/laptop-objects_mocov2.py (128 px views) -----------
train_dataloader = dict(pin_memory=False)

# ---- schedule -----------------------------------------------------------------------
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=0., by_epoch=False, begin=12),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={{_base_.laptop_pretrain_iters}})
auto_scale_lr = dict(base_batch_size=256)

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval={{_base_.laptop_pretrain_iters}},
                    max_keep_ckpts=1))
custom_hooks = [{{_base_.laptop_knn_monitor}}]
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0, diff_rank_seed=True)
