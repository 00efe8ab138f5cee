# The paper's contrastive baseline: MoCo-v2 pre-training of the same Mobile-Former-294M
# encoder, with MMPretrain's MoCo and the MoCo-v2 recipe (224 px two-view augmentation,
# 2-layer MLP projector, temperature 0.2, queue 65,536, SGD lr 0.03 for batch 256, cosine,
# 200 epochs). Its checkpoint goes through the same probes and detectors as QB-Heat's
# (the encoder's keys are 'backbone.*' in both).
#
#   tools/dist_train.sh configs/mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py 8
_base_ = ['../_base_/models/mocov2_mobileformer-294m.py',
          '../_base_/datasets/imagenet_bs32_mocov2.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

# ---- model: configs/_base_/models/mocov2_mobileformer-294m.py ---------------------
# ---- data: configs/_base_/datasets/imagenet_bs32_mocov2.py -------------------------

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
