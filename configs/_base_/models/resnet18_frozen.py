# A frozen ResNet-18 (MMPretrain's) under a classifier: what the converged probes put on a
# ResNet-18 pre-training's checkpoint (SparK, QB-Heat or MoCo-v2 on ResNet-18; SparK's
# SparseResNet saves the same keys). Every stage frozen, norms in eval mode, weights
# loaded strictly from `init_cfg.checkpoint` (prefix found automatically), or
# `model.backbone.init_cfg=None` for the random init.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        out_indices=(3, ),
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=None, prefix='auto')))
