# Frozen-backbone DETR on the demo COCO set at laptop scale: the demo DETR (configs/
# detection/: 128-d, 2 + 2 layers, 20 queries) for 10 epochs instead of 40. Plain DETR
# learns slowly; the number is reported as measured. The checkpoint is required.
_base_ = './detr_mobileformer-294m-frozen_1xb8-40e_demo-coco.py'

work_dir = None
train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = [dict(type='MultiStepLR', begin=0, end=10, by_epoch=True, milestones=[8],
                        gamma=0.1)]
default_hooks = dict(checkpoint=dict(interval=10))
