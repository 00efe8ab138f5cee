# Demo: the frozen-backbone demo DETR (detr_mobileformer-294m-frozen_1xb8-40e_demo-coco.py)
# on the QB-Heat demo's checkpoint. Run the QB-Heat demo first
# (configs/qbheat_mobileformer_demo.py):
#
#   python tools/train.py configs/detection/detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco.py
#   python tools/test.py configs/detection/detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco.py \
#       work_dirs/detr_mobileformer-294m-qbheat-frozen_1xb8-40e_demo-coco/epoch_40.pth
_base_ = './detr_mobileformer-294m-frozen_1xb8-40e_demo-coco.py'

model = dict(backbone=dict(init_cfg=dict(checkpoint='work_dirs/qbheat_demo/iter_800.pth')))
