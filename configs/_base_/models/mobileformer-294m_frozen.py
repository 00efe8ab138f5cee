# A frozen Mobile-Former-294M under a classifier: what the probes (linear, tran-1) and the
# k-NN evaluation put on a pre-training's checkpoint. Every stage is frozen, norms stay in
# eval mode, and the weights load strictly from `init_cfg.checkpoint` (a full
# pre-training checkpoint or an extracted backbone; prefix found automatically), set by
# the user: `--cfg-options model.backbone.init_cfg.checkpoint=...`, or
# `model.backbone.init_cfg=None` for the random-init control. Each config adds its neck
# and head (or its k-NN settings) and its number of classes.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='MobileFormer',
        arch='294m',
        out_indices=(4, ),
        frozen_stages=5,  # everything, final bridge and expansion included
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=None, prefix='auto')))
