# The demo probes' data (configs/probing/*_demo-photos.py): which of the 8 bundled
# scikit-image photographs a 128 px crop comes from (DemoPhotoDataset, label = photo
# index), at the resolution of the demo pre-training (configs/qbheat_mobileformer_demo.py).
# 320 train / 256 val crops in data/demo_probe/ (made on first use): more val crops than
# the pre-training set's 64, so that one image is 0.4 % of accuracy, not 1.6 %. Random
# resized crops (0.5-1, bicubic) and flips for training; top-1 accuracy, also for
# tools/test.py.
demo_dataset = dict(type='DemoPhotoDataset', data_root='data/demo_probe', img_size=128,
                    num_train=40, num_val=32)
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
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(demo_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(demo_dataset, split='val', pipeline=val_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
