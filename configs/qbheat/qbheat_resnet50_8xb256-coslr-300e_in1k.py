# QB-Heat on MMPretrain's ResNet-50 (stride-32 map of stage 4, 2048 channels), with the
# Mobile-Former recipe of the base config. Shows the method needs nothing from the
# backbone but a stride-32 map.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=50, out_indices=(3, )),
    neck=dict(in_channels=2048),
    decoder=dict(in_channels=2048))
