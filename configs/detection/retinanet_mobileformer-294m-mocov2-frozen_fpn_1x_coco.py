# Baseline: the frozen-backbone detector (retinanet_mobileformer-294m-frozen_fpn_1x_coco.py) with its backbone
# initialised from MoCo-v2 pre-training instead of QB-Heat (the paper's frozen-backbone
# comparison: QB-Heat is +7.9 AP over MoCo-v2 and +4.5 AP over supervised). Only the
# checkpoint differs, by default the last one of
# configs/mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py (its query
# encoder, 'backbone.*', is loaded; the momentum encoder is ignored):
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-mocov2-frozen_fpn_1x_coco.py 8
#
# Prefix 'auto' takes the 'backbone.' weights of a full checkpoint or a plain extracted
# state dict; every backbone key must load, and without the checkpoint file the run stops
# before training.
_base_ = './retinanet_mobileformer-294m-frozen_fpn_1x_coco.py'

model = dict(backbone=dict(init_cfg=dict(
    checkpoint='work_dirs/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k/epoch_200.pth')))
