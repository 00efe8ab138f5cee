# ImageNet-1k for the supervised Mobile-Former recipe (configs/mobileformer/*_in1k.py),
# the reference's timm augmentation: 224 px random resized crops (bilinear), flips,
# RandAugment m9-mstd0.5 (timm's original op set, see below), random erasing 0.2 with
# per-pixel noise; val at 224 px from a 256 px short edge (crop 0.875); 128 images per
# GPU; top-1 / top-5 accuracy, also for tools/test.py. MMPretrain's ImageNet layout:
# data/imagenet/{train,val}/ with meta/{train,val}.txt.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
# timm's 'rand-m9-mstd0.5' uses its original (not '-inc1' increasing) op set, which
# MMPretrain's 'timm_increasing' preset does not reproduce: Posterize, Solarize and the
# four enhance ops get stronger in the other direction. Level m of 10 maps to:
# posterize bits int(4m/10), solarize threshold 256m/10, enhance factor 0.1 + 1.8m/10.
# MMPretrain rounds the posterize bits up where timm truncates, hence its range (-1, 3).
rand_augment_policies = [
    dict(type='AutoContrast'),
    dict(type='Equalize'),
    dict(type='Invert'),
    dict(type='Rotate', magnitude_range=(0, 30)),
    dict(type='Posterize', magnitude_range=(-1, 3)),
    dict(type='Solarize', magnitude_range=(0, 256)),
    dict(type='SolarizeAdd', magnitude_range=(0, 110)),
    dict(type='ColorTransform', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Contrast', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Brightness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Sharpness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='horizontal'),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='vertical'),
    dict(type='Translate', magnitude_range=(0, 0.45), direction='horizontal'),
    dict(type='Translate', magnitude_range=(0, 0.45), direction='vertical'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies=rand_augment_policies,
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean],
                     interpolation='bilinear')),
    # timm --remode pixel --reprob 0.2: one box filled with per-pixel normal noise.
    dict(
        type='RandomErasing',
        erase_prob=0.2,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # crop 0.875: 224 / 0.875 = 256
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,  # per GPU: 8 x 128 = 1024
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
# tools/test.py evaluates on ImageNet val, like the published numbers.
test_dataloader = val_dataloader
test_evaluator = val_evaluator
