# Ablation: norm_pix=False. The target is the (dataset-normalised) pixels of each cell,
# without the per-cell mean / variance normalisation. Everything else as the base.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(head=dict(norm_pix=False))
