# ImageNet-1k for MoCo-v2 pre-training (configs/mocov2/*_in1k.py): two 224 px views per
# image with the MoCo-v2 augmentation (random resized crop 0.2-1, colour jitter 0.4 / 0.4
# / 0.4 / 0.1 with p 0.8, grey with p 0.2, Gaussian blur with p 0.5, flip), 32 images per
# GPU. No validation. MMPretrain's ImageNet layout: data/imagenet/{train,val}/ with
# meta/{train,val}.txt.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,  # per GPU: 8 x 32 = 256
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
