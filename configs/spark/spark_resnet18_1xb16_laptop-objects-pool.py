# SparK (Tian et al., ICLR 2023, arXiv 2301.03580), MMPretrain's own implementation and
# recipe (mmpretrain::spark/spark_sparse-resnet50_8xb512-amp-coslr-800e_in1k.py: its
# SparseResNet, light decoder, mask ratio 0.6, Lamb with betas (0.9, 0.95), weight decay
# 0.04, gradient clipping at 5) on ResNet-18 and the laptop objects pool at 128 px: the
# reference masked-modelling method of the converged laptop study
# (configs/experiments/laptop_study_converged.py), run in the same harness and budget as
# QB-Heat. What differs from MMPretrain's recipe, and why [ours]:
# - ResNet-18 (the recipe's ResNet-50 scaled down): the encoder-decoder norms and the
#   decoder at a quarter of the recipe's widths (512 encoder channels; decoder 128 at
#   stride 32, halving per stage as in the recipe);
# - one process: plain (sparse) BatchNorm instead of the synchronised ones;
# - 128 px views cropped as the laptop QB-Heat recipe crops them (RandomResizedCrop of
#   0.5-1 of the image, horizontal flip); the mask is drawn on the 4 x 4 grid of 32 px
#   cells (6 of 16 visible);
# - the recipe's peak learning rate, 1.6e-3, not rescaled to batch 16 (the linear rule
#   would give 6e-6, which moves nothing in a few thousand steps; the laptop QB-Heat and
#   MoCo-v2 recipes also keep their recipe-scale rates), with the laptop recipes'
#   12-iteration warm-up and a cosine to the end of the run;
# - no k-NN monitor: SparK's sparse encoder runs only under a mask.
# The plan sets the length in images; run alone, it trains the 1,536 iterations below.
#
#   python tools/train.py configs/spark/spark_resnet18_1xb16_laptop-objects-pool.py
_base_ = ['../_base_/datasets/laptop-objects.py', '../_base_/schedules/laptop-objects_budget.py',
          'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
runner_type = 'AtomicCheckpointRunner'
work_dir = None

model = dict(
    type='SparK',
    input_size=128,
    downsample_raito=32,  # sic: MMPretrain's argument name
    mask_ratio=0.6,
    enc_dec_norm_cfg=dict(type='SparseBatchNorm2d'),
    enc_dec_norm_dim=512,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='SparseResNet',
        depth=18,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='SparseBatchNorm2d'),
        drop_path_rate=0.05),
    neck=dict(
        type='SparKLightDecoder',
        feature_dim=128,
        upsample_ratio=32,
        mid_channels=0,
        norm_cfg=dict(type='BN'),
        last_act=False),
    head=dict(
        type='SparKPretrainHead',
        loss=dict(type='PixelReconstructionLoss', criterion='L2')))

# The laptop objects' pool (configs/_base_/datasets/laptop-objects.py with the longer
# study's pool), stacked into tensors; no validation (MMPretrain's SparK has none).
train_dataloader = dict(collate_fn=dict(type='default_collate'),
                        dataset={{_base_.laptop_pool_dataset}})
val_dataloader = None

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Lamb', lr=1.6e-3, betas=(0.9, 0.95), weight_decay=0.04),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(bias_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=12),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1536)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=384, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
