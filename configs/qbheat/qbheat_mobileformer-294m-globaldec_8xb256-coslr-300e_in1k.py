# Ablation: the global decoder (the project's first one). Attention across all cells of the
# extrapolated map with absolute positions, so masked cells can read the visible cells
# directly and bypass the heat operator. Kept to measure that bypass; not the method.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(decoder=dict(scope='global'))
