# The laptop objects (LaptopObjectsDataset, qbheat_mm/datasets/laptop_objects.py), one view
# per image: what the laptop-scale QB-Heat and supervised pre-trainings read. 16 objects
# cut from scikit-image's bundled photographs, pasted rotated and scaled on texture
# backgrounds, half the images grey and the rest with random hues, train / val backgrounds
# from disjoint halves of the texture photographs; 768 train / 256 val images of 128 px,
# generated into data/laptop_objects/ on first use. Training: random resized crops
# (0.5-1, bicubic) and flips, 16 images a batch, endless sampling (the budget is in
# iterations: configs/_base_/schedules/laptop-objects_budget.py); val un-augmented.
# MoCo-v2's two views: laptop-objects_mocov2.py.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.5, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]  # 128 px already
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='LaptopObjectsDataset', split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='LaptopObjectsDataset', split='val', pipeline=val_pipeline))
