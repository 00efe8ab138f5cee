# Linear probing of a QB-Heat pre-trained Mobile-Former-294M on ImageNet-1k (MAE
# protocol): frozen backbone with BN in eval mode, global average pool of the expanded
# 7 x 7 x 1152 map, BatchNorm without affine, linear classifier; LARS, 90 epochs.
#
#   python tools/train.py configs/probing/linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/qbheat/epoch_300.pth
#
# The checkpoint may be the full pre-training checkpoint or the output of
# tools/model_converters/extract_backbone.py ('auto' prefix). Every backbone key must load,
# or the run stops listing the missing / unexpected keys. Random-init control:
# --cfg-options model.backbone.init_cfg=None.
_base_ = ['../_base_/models/mobileformer-294m_frozen.py',
          '../_base_/datasets/imagenet_bs128_probe-224px.py',
          '../_base_/schedules/probe_90e.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'

model = dict(
    # A list of necks builds an nn.Sequential: pool, then the non-affine BatchNorm.
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck', input_features=1152, affine=False),
    ],
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1152,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, 5),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=0.01)))

# LARS with base lr 0.1 x batch / 256 = 0.4 for 8 x 128, no weight decay (MAE).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.4, weight_decay=0.0, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=80, eta_min=0.0, by_epoch=True, begin=10,
         end=90, convert_to_iter_based=True),
]

# ---- loops: configs/_base_/schedules/probe_90e.py -----------------------------------

# ---- runtime: MMPretrain's default_runtime.py, except ------------------------------
default_hooks = dict(
    checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='accuracy/top1'))
env_cfg = dict(cudnn_benchmark=True)
randomness = dict(seed=0)
