# The laptop objects (configs/_base_/datasets/laptop-objects.py: 16 classes, 768 train /
# 256 val images of 128 px, in data/laptop_objects/) as the trained probes read them
# (configs/probing/*_laptop-objects.py): epochs of 32 images, random resized crops
# (0.5-1, bicubic) and flips for training, val un-augmented; top-1 accuracy, also for
# tools/test.py. The converged probes read the same images un-augmented:
# laptop-objects_probe.py.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.5, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]  # 128 px already
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='LaptopObjectsDataset', split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='LaptopObjectsDataset', split='val', pipeline=val_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
