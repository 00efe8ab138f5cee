# QB-Heat pre-training of Mobile-Former-294M on ImageNet-1k.
#
#   tools/dist_train.sh configs/qbheat_mobileformer_in1k.py 8      (8 GPUs x 256 images)
#
# The method's parts are the paper's; the recipe (256 px, AdamW, lr, schedule, batch) is
# ours: the paper gives none of these numbers. Data in MMPretrain's ImageNet layout:
# data/imagenet/{train,val}/ with meta/{train,val}.txt. A held-out slice of ImageNet val
# is reconstructed every 10 epochs and scored by ReconstructionMetric (PSNR per quadrant).
_base_ = ['../_base_/models/qbheat_mobileformer-294m.py',
          '../_base_/datasets/imagenet_bs256_qbheat-256px.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model: configs/_base_/models/qbheat_mobileformer-294m.py ---------------------
# ---- data: configs/_base_/datasets/imagenet_bs256_qbheat-256px.py ------------------

# ---- schedule: AdamW, lr 1.5e-4 x 2048 / 256, 20 warm-up + 280 cosine epochs --------
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel updates every parameter (the same update within float rounding,
    # tested; a faster step on the CPU: the speed options in docs/en/benchmarks.md).
    optimizer=dict(type='AdamW', lr=1.5e-4 * 2048 / 256, betas=(0.9, 0.95),
                   weight_decay=0.05, fused=True),
    # No decay on norms and biases (MAE); A and B are decayed like any weight matrix.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=280, eta_min=0.0, by_epoch=True, begin=20,
         end=300, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=10)
val_cfg = dict()
# The lr above is written for 8 x 256; --auto-scale-lr rescales it to the real batch.
auto_scale_lr = dict(base_batch_size=2048)

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
custom_hooks = [
    # Reconstructions of 4 fixed val images every 2,500 iterations (about 4 epochs).
    dict(type='QBHeatVisualizationHook', interval=2500, num_images=4),
]
env_cfg = dict(cudnn_benchmark=True)
randomness = dict(seed=0, diff_rank_seed=True)
