# RetinaNet on COCO 2017 with a frozen Mobile-Former-294M pre-trained by QB-Heat: the
# frozen-backbone detector (retinanet_mobileformer-294m-frozen_fpn_1x_coco.py) on the last
# checkpoint of `python tools/train.py configs/qbheat_mobileformer_in1k.py` (a full
# QB-Heat checkpoint; the output of tools/model_converters/extract_backbone.py loads too).
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py 8
_base_ = './retinanet_mobileformer-294m-frozen_fpn_1x_coco.py'

model = dict(backbone=dict(init_cfg=dict(
    checkpoint='work_dirs/qbheat_mobileformer_in1k/epoch_300.pth')))
