# DETR (MMDetection's, at its COCO size: 256-d, 6 + 6 layers, 100 queries) on a FROZEN
# Mobile-Former-294M. The expanded stride-32 map (1152 channels) goes through a
# ChannelMapper to the transformer; the backbone is frozen entirely (frozen_stages=5) with
# BatchNorm in eval mode, so only the neck, the transformer and the head learn. The
# weights load strictly from `init_cfg.checkpoint`, which the detector of each
# pre-training sets (a full checkpoint or an extracted backbone; prefix found
# automatically); without one the run stops before training, never a random backbone
# (init_cfg=None asks for the random-init control).
model = dict(
    type='DETR',
    num_queries=100,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='mmpretrain.MobileFormer',
        arch='294m',
        out_indices=(4, ),  # the expanded stride-32 map, 1152 channels
        frozen_stages=5,  # everything: tokens, stem, blocks, final bridge and expansion
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=None, prefix='auto')),
    neck=dict(
        type='ChannelMapper',
        in_channels=[1152],
        kernel_size=1,
        out_channels=256,
        act_cfg=None,
        norm_cfg=None,
        num_outs=1),
    encoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2, ffn_drop=0.1,
                         act_cfg=dict(type='ReLU', inplace=True)))),
    decoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            cross_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2, ffn_drop=0.1,
                         act_cfg=dict(type='ReLU', inplace=True))),
        return_intermediate=True),
    positional_encoding=dict(num_feats=128, normalize=True),
    bbox_head=dict(
        type='DETRHead',
        num_classes=80,
        embed_dims=256,
        loss_cls=dict(type='CrossEntropyLoss', bg_cls_weight=0.1, use_sigmoid=False,
                      loss_weight=1.0, class_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=1.),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0)
            ])),
    test_cfg=dict(max_per_img=100))
