# The embedded demo: QB-Heat pre-training of Mobile-Former-294M on photographs that ship
# inside scikit-image, on the CPU (2 cores, about 6 minutes). Nothing is downloaded.
#
#   python tools/train.py configs/qbheat_mobileformer_demo.py          (what `make demo` runs)
#
# (configs/qbheat_mobileformer_demo.py is the short entry point; it inherits this file.)
# On first use DemoPhotoDataset writes data/demo/ (320 train / 64 val crops of 128 px from
# 8 photographs). Written to work_dirs/qbheat_demo/: checkpoints, the log with the
# validation PSNR per quadrant (recon/psnr_visible, _right, _bottom, _diagonal, _masked),
# and reconstruction pictures in reconstructions/iter_*.png (also in vis_data/).
# The model is the full recipe's, at 128 px (a 64 px visible quarter, 2 x 2 feature cells);
# the optimiser runs a short, hotter schedule suited to a few hundred iterations.
_base_ = ['../_base_/models/qbheat_mobileformer-294m.py',
          '../_base_/datasets/demo-photos.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
work_dir = 'work_dirs/qbheat_demo'

# ---- model: configs/_base_/models/qbheat_mobileformer-294m.py ---------------------
# ---- data: configs/_base_/datasets/demo-photos.py ----------------------------------

# ---- schedule -----------------------------------------------------------------------
max_iters = 800
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
