# Ablation: the 'finola' neck (the authors' follow-up, arXiv 2305.16319): as 'recursive',
# but each unit step is z <- z + A LN(z) (LN over channels, no affine). Everything else
# as the base.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(neck=dict(mode='finola'))
