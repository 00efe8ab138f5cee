# A tiny QB-Heat config for tests: MMPretrain's ResNet-18 at 1/8 width (64 channels at
# stride 32), 64 px images of a tiny DemoPhotoDataset (16 train / 8 val). Tests override
# the data root and the work dir.
custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
default_scope = 'mmpretrain'
runner_type = 'AtomicCheckpointRunner'  # as the project's configs

model = dict(
    type='QBHeat',
    encoder_stride=32,
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
                  out_indices=(3, )),
    neck=dict(type='HeatExtrapolationNeck', in_channels=64),
    decoder=dict(type='QBHeatDecoder', in_channels=64, embed_dims=32, depth=1, num_heads=2),
    head=dict(type='QBHeatHead'))

data = dict(type='DemoPhotoDataset', data_root='data/demo_tiny', img_size=64, num_train=2,
            num_val=1)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(data, split='train', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0)),
        dict(type='PackInputs')]))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(data, split='val', pipeline=[
        dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
val_evaluator = dict(type='ReconstructionMetric')

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=2)
val_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2))
custom_hooks = [dict(type='QBHeatVisualizationHook', interval=2, num_images=2)]
log_processor = dict(by_epoch=False)
log_level = 'WARNING'
randomness = dict(seed=0)
