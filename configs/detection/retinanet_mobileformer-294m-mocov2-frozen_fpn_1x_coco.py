# Baseline twin of retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py:
# the same detector, recipe and frozen Mobile-Former-294M, initialised from MoCo-v2
# pre-training instead of QB-Heat (the paper's frozen-backbone comparison: QB-Heat is
# +7.9 AP over MoCo-v2 and +4.5 AP over supervised). Only the checkpoint differs:
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-mocov2-frozen_fpn_1x_coco.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k/epoch_200.pth
#
# The checkpoint comes from
# configs/mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py; its query encoder
# ('backbone.*') is loaded, the momentum encoder is ignored.
# Prefix 'auto' takes the 'backbone.' weights of a full checkpoint or a plain extracted
# state dict; every backbone key must load, and without a checkpoint the run stops before
# training.
_base_ = './retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py'
