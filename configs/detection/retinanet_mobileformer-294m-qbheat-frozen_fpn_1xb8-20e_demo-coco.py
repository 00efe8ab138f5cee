# Demo: the frozen-backbone demo RetinaNet (retinanet_mobileformer-294m-frozen_fpn_1xb8-20e_
# demo-coco.py) on the QB-Heat demo's checkpoint. Run the QB-Heat demo first
# (configs/qbheat_mobileformer_demo.py; `make demo` runs both):
#
#   python tools/train.py configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py
#   python tools/test.py configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco.py \
#       work_dirs/retinanet_mobileformer-294m-qbheat-frozen_fpn_1xb8-20e_demo-coco/epoch_20.pth
_base_ = './retinanet_mobileformer-294m-frozen_fpn_1xb8-20e_demo-coco.py'

model = dict(backbone=dict(init_cfg=dict(checkpoint='work_dirs/qbheat_demo/iter_800.pth')))
