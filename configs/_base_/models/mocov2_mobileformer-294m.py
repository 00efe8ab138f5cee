# MoCo-v2 (MMPretrain's MoCo) on a Mobile-Former-294M encoder: the paper's contrastive
# baseline, pre-trained by configs/mocov2/. A 2-layer MLP projector (2048 hidden, 128-d
# out) on the pooled expanded map, temperature 0.2, a queue of 65,536 keys, key-encoder
# momentum 0.999. The encoder's keys are 'backbone.*', as in a QB-Heat checkpoint, so the
# same probes and detectors load it.
model = dict(
    type='MoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # MMPretrain's EMA convention: 1 - 0.999
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(type='MobileFormer', arch='294m', out_indices=(4, )),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=1152,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))
