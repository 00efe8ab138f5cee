# Baseline: the frozen-backbone detector (detr_mobileformer-294m-frozen_8xb2-150e_coco.py) with its backbone
# initialised from supervised ImageNet-1k training instead of QB-Heat (the paper's
# frozen-backbone comparison: QB-Heat is +7.9 AP over MoCo-v2 and +4.5 AP over
# supervised). Only the checkpoint differs, by default the last one of
# configs/mobileformer/mobileformer-294m_8xb128_in1k.py (or a reference checkpoint
# converted by tools/model_converters/mobileformer_official_to_mmpretrain.py):
#
#   bash tools/dist_train.sh configs/detection/detr_mobileformer-294m-supervised-frozen_8xb2-150e_coco.py 8
#
# Prefix 'auto' takes the 'backbone.' weights of a full checkpoint or a plain extracted
# state dict; every backbone key must load, and without the checkpoint file the run stops
# before training.
_base_ = './detr_mobileformer-294m-frozen_8xb2-150e_coco.py'

model = dict(backbone=dict(init_cfg=dict(
    checkpoint='work_dirs/mobileformer-294m_8xb128_in1k/epoch_450.pth')))
