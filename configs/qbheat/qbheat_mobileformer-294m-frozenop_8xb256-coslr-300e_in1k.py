# Control: A and B frozen at their zero init, so the neck only copies the visible quarter's
# features into the three masked quarters. Whatever the default beats this by is what the
# learned heat operator adds. Everything else as the base.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(neck=dict(freeze_operator=True))
