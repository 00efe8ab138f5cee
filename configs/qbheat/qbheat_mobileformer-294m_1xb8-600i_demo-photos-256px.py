# The demo at 256 px: the ImageNet recipe's input size, so the visible quarter is 4 x 4
# feature cells (the 128 px demo has 2 x 2) and the right and bottom quarters lie up to 4
# cells from the visible border. The larger setting of the heat-operator ablation
# (`configs/experiments/`); about 7 minutes per run on 2 quiet CPU cores.
# Data: data/demo_256/ (generated on first use, 320 train / 64 val crops of 256 px).
_base_ = './qbheat_mobileformer-294m_1xb16-800i_demo-photos.py'

work_dir = 'work_dirs/qbheat_demo_256px'
img_size = 256
max_iters = 600

train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        data_root='data/demo_256',
        img_size=img_size,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0),
                 backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs'),
        ]))
val_dataloader = dict(batch_size=8, dataset=dict(data_root='data/demo_256', img_size=img_size))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters - 50, eta_min=1e-5, by_epoch=False,
         begin=50, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(checkpoint=dict(interval=200))
custom_hooks = [dict(type='QBHeatVisualizationHook', interval=200, num_images=4)]
