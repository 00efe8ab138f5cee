# Baseline twin of retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py:
# the same detector, recipe and frozen Mobile-Former-294M, initialised from supervised ImageNet-1k
# pre-training instead of QB-Heat (the paper's frozen-backbone comparison: QB-Heat is
# +7.9 AP over MoCo-v2 and +4.5 AP over supervised). Only the checkpoint differs:
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-supervised-frozen_fpn_1x_coco.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mobileformer-294m_8xb128_in1k/epoch_450.pth
#
# The checkpoint comes from configs/mobileformer/mobileformer-294m_8xb128_in1k.py, or is a
# reference checkpoint converted by
# tools/model_converters/mobileformer_official_to_mmpretrain.py.
# Prefix 'auto' takes the 'backbone.' weights of a full checkpoint or a plain extracted
# state dict; every backbone key must load, and without a checkpoint the run stops before
# training.
_base_ = './retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py'
