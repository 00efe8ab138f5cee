# The supervised Mobile-Former-294M classifier of the reference (AAboys/MobileFormer): its
# head reads the expanded stride-32 map and the global tokens (token 0), 1920 hidden,
# dropout 0.3, label smoothing 0.1, mixup 0.2 on every batch. Trained by
# configs/mobileformer/.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    # The head reads the expanded stride-32 map and the global tokens (token 0).
    backbone=dict(
        type='MobileFormer',
        arch='294m',
        out_indices=(4, ),
        with_tokens=True,
        drop_path_rate=0.),
    neck=None,
    head=dict(
        type='MobileFormerClsHead',
        num_classes=1000,
        in_channels=1152,
        token_dims=192,
        hidden_channels=1920,
        dropout=0.3,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)),
    # Mixup with alpha 0.2 on every batch (no CutMix), as timm's --mixup 0.2.
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.2)))
