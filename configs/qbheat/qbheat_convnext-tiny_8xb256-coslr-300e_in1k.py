# QB-Heat on MMPretrain's ConvNeXt-tiny (stage 4 map, 768 channels, not pooled), with the
# Mobile-Former recipe of the base config.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(
    backbone=dict(_delete_=True, type='ConvNeXt', arch='tiny', out_indices=(3, ),
                  gap_before_final_norm=False),
    neck=dict(in_channels=768),
    decoder=dict(in_channels=768))
