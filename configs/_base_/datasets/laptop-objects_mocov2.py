# The laptop objects (laptop-objects.py) with MoCo-v2's two views per image: the
# augmentation of configs/_base_/datasets/imagenet_bs32_mocov2.py at 128 px, 16 images a
# batch, endless sampling (the budget is in iterations:
# configs/_base_/schedules/laptop-objects_budget.py). No validation.
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
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='LaptopObjectsDataset', split='train', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
        dict(type='PackInputs'),
    ]))
