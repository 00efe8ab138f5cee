# Supervised pre-training of Mobile-Former-294M at laptop scale: the classifier of
# configs/mobileformer/ (its head reads the map and the global tokens) trained on the
# laptop objects' 16 labels, with the same budget as the QB-Heat laptop run (120
# iterations of 16 images). Changed for a run of about a hundred iterations, and only that:
# 128 px crops and flips instead of RandAugment, random erasing and mixup (which slow
# learning down in a run this short), AdamW lr 1e-3, weight decay 0.05, 12-iteration
# warm-up and cosine. Validation (top-1 on the val split) at the end.
#
#   python tools/train.py configs/mobileformer/mobileformer-294m_1xb16-120i_laptop-objects.py
_base_ = ['./mobileformer-294m_8xb128_in1k.py', '../_base_/datasets/laptop-objects.py']

model = dict(
    data_preprocessor=dict(num_classes=16),
    head=dict(num_classes=16, topk=(1, )),
    train_cfg=None)  # no mixup

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='train', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.5, 1.0),
             backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='val',
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
val_evaluator = dict(topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=12),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters={{_base_.laptop_pretrain_iters}},
                 val_interval={{_base_.laptop_pretrain_iters}})
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval={{_base_.laptop_pretrain_iters}},
                    max_keep_ckpts=1, save_best=None))
custom_hooks = [{{_base_.laptop_knn_monitor}}]
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False)
