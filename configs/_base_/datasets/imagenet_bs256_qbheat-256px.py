# ImageNet-1k for QB-Heat pre-training at 256 px (configs/qbheat/*_in1k.py): random
# resized crops of 256 px (scale 0.2-1, bicubic) and flips, 256 images per GPU; a held-out
# slice of val (its first 5,000 images, never trained on) reconstructed and scored by
# ReconstructionMetric (PSNR per quadrant). MMPretrain's ImageNet layout:
# data/imagenet/{train,val}/ with meta/{train,val}.txt.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=256, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    # With flips, any image corner plays the visible top-left role over time.
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,  # per GPU: 8 x 256 = 2048
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    # The first 5,000 ImageNet val images: never trained on, cheap to reconstruct.
    dataset=dict(type=dataset_type, data_root=data_root, split='val', indices=5000,
                 pipeline=val_pipeline))
val_evaluator = dict(type='ReconstructionMetric')
