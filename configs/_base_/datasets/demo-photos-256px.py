# The demo's data at 256 px (configs/qbheat/*_demo-photos-256px.py): the ImageNet recipe's
# input size, so the visible quarter is 4 x 4 feature cells. On first use DemoPhotoDataset
# writes data/demo_256/ (320 train / 64 val crops of 256 px from the 8 photographs that
# ship inside scikit-image). Random resized crops (0.5-1, bicubic) and flips, 8 images a
# batch; the val crops reconstructed and scored by ReconstructionMetric.
img_size = 256
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),  # the val crops are already 256 x 256
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='DemoPhotoDataset', data_root='data/demo_256', split='train',
                 img_size=img_size, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='DemoPhotoDataset', data_root='data/demo_256', split='val',
                 img_size=img_size, pipeline=val_pipeline))
val_evaluator = dict(type='ReconstructionMetric')
