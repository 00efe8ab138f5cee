# QB-Heat on MMPretrain's MobileNetV3-large (its last layer: the 960-channel 1 x 1 conv at
# stride 32), with the Mobile-Former recipe of the base config.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(
    backbone=dict(_delete_=True, type='MobileNetV3', arch='large', out_indices=(16, )),
    neck=dict(in_channels=960),
    decoder=dict(in_channels=960))
