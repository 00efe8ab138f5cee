# Frozen-backbone RetinaNet on the demo COCO set at laptop scale: the demo RetinaNet
# (configs/detection/, 64-channel FPN and head) for 6 epochs instead of 20. The
# checkpoint is required (model.backbone.init_cfg.checkpoint=CKPT; init_cfg=None for the
# random control).
_base_ = './retinanet_mobileformer-294m-frozen_fpn_1xb8-20e_demo-coco.py'

work_dir = None
train_cfg = dict(max_epochs=6, val_interval=6)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0, end=6),
]
default_hooks = dict(checkpoint=dict(interval=6))
