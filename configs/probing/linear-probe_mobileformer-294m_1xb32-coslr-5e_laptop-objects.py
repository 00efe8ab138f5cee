# Linear probe of a frozen Mobile-Former-294M on the laptop objects (16 classes, 768 train /
# 256 val images of 128 px): the demo linear probe (pool, BatchNorm without affine,
# linear; SGD with the 0.1 x batch / 256 rule) for 5 epochs. The checkpoint is required
# (a pre-training checkpoint or an extracted backbone); the random control is
# --cfg-options model.backbone.init_cfg=None.
#
#   python tools/train.py configs/probing/linear-probe_mobileformer-294m_1xb32-coslr-5e_laptop-objects.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = './linear-probe_mobileformer-294m_1xb32-coslr-12e_demo-photos.py'

work_dir = None
model = dict(data_preprocessor=dict(num_classes=16), head=dict(num_classes=16))
train_dataloader = dict(dataset=dict(_delete_=True, type='LaptopObjectsDataset',
                                     split='train', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='val',
                                   pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=1, end=5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=5, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5))
