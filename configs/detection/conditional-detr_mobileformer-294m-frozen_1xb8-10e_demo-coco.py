# Frozen-backbone Conditional DETR (Meng et al. 2021; MMDetection's ConditionalDETR) on the
# demo COCO set at laptop scale: the DETR-family stand-in of the laptop comparison, since
# plain DETR barely learns in a laptop budget. The laptop DETR (the demo DETR for 10
# epochs, configs/detection/detr_...) with MMDetection's Conditional-DETR changes
# (conditional cross-attention, sigmoid focal classification loss and matching cost);
# same backbone, depth, queries and schedule. The width is 256,
# not 128: MMDetection's Conditional DETR builds its reference-point sine embedding with
# 128 frequencies per coordinate, so it only works at embed_dims = 256.
_base_ = './detr_mobileformer-294m-frozen_1xb8-40e_demo-coco.py'

work_dir = None
train_cfg = dict(max_epochs=10, val_interval=10)  # as the laptop DETR
param_scheduler = [dict(type='MultiStepLR', begin=0, end=10, by_epoch=True, milestones=[8],
                        gamma=0.1)]
default_hooks = dict(checkpoint=dict(interval=10))

embed_dims = 256
ffn = dict(embed_dims=embed_dims, feedforward_channels=4 * embed_dims)
model = dict(
    type='ConditionalDETR',
    neck=dict(out_channels=embed_dims),
    encoder=dict(layer_cfg=dict(self_attn_cfg=dict(embed_dims=embed_dims), ffn_cfg=ffn)),
    decoder=dict(
        layer_cfg=dict(
            self_attn_cfg=dict(_delete_=True, embed_dims=embed_dims, num_heads=8,
                               attn_drop=0.0, cross_attn=False),
            cross_attn_cfg=dict(_delete_=True, embed_dims=embed_dims, num_heads=8,
                                attn_drop=0.0, cross_attn=True),
            ffn_cfg=ffn)),
    positional_encoding=dict(num_feats=embed_dims // 2),
    bbox_head=dict(
        type='ConditionalDETRHead',
        embed_dims=embed_dims,
        loss_cls=dict(_delete_=True, type='TorchSigmoidFocalLoss', use_sigmoid=True, gamma=2.0,
                      alpha=0.25, loss_weight=2.0)),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0)
            ])))
