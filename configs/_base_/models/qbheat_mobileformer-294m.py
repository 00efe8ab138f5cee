# The QB-Heat model on a Mobile-Former-294M encoder: what the ImageNet recipe
# (configs/qbheat/qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py) and the demo
# (configs/qbheat/qbheat_mobileformer-294m_1xb16-800i_demo-photos.py) pre-train. It holds
# at any image size whose quarter is a whole number of 32 px cells.
model = dict(
    type='QBHeat',
    # One 32 x 32 pixel cell per position of the stride-32 map; QBHeat hands it to the
    # head as its cell size.
    encoder_stride=32,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    # The encoder: the backbone without its classification layers; its last output is
    # the expanded stride-32 map (1152 channels, 4 x 4 for a 128 px visible quarter).
    backbone=dict(type='MobileFormer', arch='294m', out_indices=(4, )),
    neck=dict(
        type='HeatExtrapolationNeck',
        in_channels=1152,
        proj_channels=None,  # A, B act on the encoder's own 1152-d features
        mode='block'),  # diagonal quarter (I + B)(I + A) z, block's default
    decoder=dict(
        type='QBHeatDecoder',
        in_channels=1152,
        embed_dims=256,
        depth=4,
        num_heads=8,
        mlp_ratio=4.,
        scope='quarter'),  # each quarter decoded on its own: no path around A, B
    head=dict(
        type='QBHeatHead',
        norm_pix=True,
        loss_region='masked',
        loss=dict(type='PixelReconstructionLoss', criterion='L2')))
