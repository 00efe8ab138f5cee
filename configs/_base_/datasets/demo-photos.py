# The demo's data (configs/qbheat/*_demo-photos.py): crops of the 8 photographs that ship
# inside scikit-image, nothing downloaded. On first use DemoPhotoDataset writes data/demo/
# (320 train / 64 val crops of 128 px). Random resized crops (0.5-1, bicubic) and flips,
# 16 images a batch; the val crops reconstructed and scored by ReconstructionMetric.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.5, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),  # the val crops are already 128 x 128
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='DemoPhotoDataset', data_root='data/demo', split='train',
                 img_size=128, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='DemoPhotoDataset', data_root='data/demo', split='val',
                 img_size=128, pipeline=val_pipeline))
val_evaluator = dict(type='ReconstructionMetric')
