# Ablation: the 'recursive' neck. Unit steps of one feature cell, marched from the visible
# quarter's border: right[i, j] = (I + A)^(j+1) z[i, w-1], bottom[i, j] = (I + B)^(i+1)
# z[h-1, j], diagonal from the right quarter's last row. Everything else as the base.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(neck=dict(mode='recursive'))
