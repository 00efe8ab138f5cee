# QB-Heat pre-training of Mobile-Former-294M at laptop scale (2 CPU cores): the demo's
# model and optimiser (configs/qbheat/...demo-photos.py, itself the ImageNet recipe's
# model at 128 px) on the laptop objects' training split, 120 iterations of 16 images,
# with the k-NN monitor. The frozen-operator control is this config with
# --cfg-options model.neck.freeze_operator=True (configs/experiments/laptop.py does that).
#
#   python tools/train.py configs/qbheat/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py
_base_ = ['./qbheat_mobileformer-294m_1xb16-800i_demo-photos.py',
          '../_base_/datasets/laptop-objects.py']

work_dir = None  # tools/train.py: work_dirs/<config name> unless --work-dir

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.5, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='val',
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=12),
]
train_cfg = dict(max_iters={{_base_.laptop_pretrain_iters}},
                 val_interval={{_base_.laptop_pretrain_iters}})
default_hooks = dict(checkpoint=dict(interval={{_base_.laptop_pretrain_iters}},
                                     max_keep_ckpts=1))
custom_hooks = [
    dict(type='QBHeatVisualizationHook', interval={{_base_.laptop_pretrain_iters}},
         num_images=4),
    {{_base_.laptop_knn_monitor}},
]
