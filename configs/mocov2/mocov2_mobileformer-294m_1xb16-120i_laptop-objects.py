# MoCo-v2 pre-training of Mobile-Former-294M at laptop scale: the project's MoCo-v2 recipe
# (configs/mocov2/, MMPretrain's MoCo) on the laptop objects' training split, with the
# same budget as the QB-Heat laptop run (120 iterations of 16 images). Changed for a run
# of about a hundred iterations on 768 images, and only that: 128 px views, a queue of 512
# keys (the recipe's 65,536 would be mostly empty or stale), key-encoder momentum 0.99
# (0.999 barely moves it in 120 steps), lr 0.03 with a 12-iteration warm-up and cosine.
#
#   python tools/train.py configs/mocov2/mocov2_mobileformer-294m_1xb16-120i_laptop-objects.py
_base_ = ['./mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py',
          '../_base_/datasets/laptop-objects.py']

model = dict(queue_len=512, momentum=0.01)  # MMPretrain's EMA convention: 1 - 0.99

view_pipeline = [
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    pin_memory=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='train', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
        dict(type='PackInputs'),
    ]))

optim_wrapper = dict(optimizer=dict(lr=0.03))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=12),
    # No end: the cosine runs to train_cfg.max_iters, whatever it is set to.
    dict(type='CosineAnnealingLR', eta_min=0., by_epoch=False, begin=12),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters={{_base_.laptop_pretrain_iters}})
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval={{_base_.laptop_pretrain_iters}},
                    max_keep_ckpts=1))
custom_hooks = [{{_base_.laptop_knn_monitor}}]
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False)
