# Ablation: loss_region='all'. The loss also covers the visible top-left quarter (the
# decoder must then reproduce what the encoder saw). Everything else as the base.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(head=dict(loss_region='all'))
