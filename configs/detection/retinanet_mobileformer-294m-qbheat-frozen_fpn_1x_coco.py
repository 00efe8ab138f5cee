# RetinaNet on COCO 2017 with a FROZEN Mobile-Former-294M pre-trained by QB-Heat (the
# paper's frozen-backbone detection protocol). An FPN takes the stride 8 / 16 / 32 outputs
# (out_indices 1, 2 and 4: 48, 128 and the expanded 1152 channels) and adds P6 and P7
# from the stride-32 map; the backbone is frozen entirely (frozen_stages=5) with BatchNorm
# in eval mode, so only the FPN and the head learn. The rest is MMDetection's RetinaNet 1x
# recipe (SGD 0.01, 12 epochs, lr x 0.1 at epochs 8 and 11, 8 GPUs x 2 images).
#
#   bash tools/dist_train.sh configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py 8
#
# The backbone loads the last checkpoint of the entry-point pre-training (below; another
# one with --cfg-options model.backbone.init_cfg.checkpoint=PATH): a full QB-Heat
# checkpoint or the output of tools/model_converters/extract_backbone.py (prefix 'auto'
# handles both). Every backbone key must load or the run stops before training listing
# the missing / unexpected keys; without the checkpoint file it stops too (never a random
# backbone). The baselines are the '-supervised-' and '-mocov2-' configs next to this
# one, which change only the checkpoint. Data: data/coco/ in MMDetection's
# layout (annotations/instances_{train,val}2017.json, train2017/, val2017/).
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['qbheat_mm', 'qbheat_mm.det'], allow_failed_imports=False)
# Checkpoints that survive a kill; --resume skips truncated ones (qbheat_mm/engine/runner.py).
runner_type = 'AtomicCheckpointRunner'
default_scope = 'mmdet'

# MMDetection's RetinaNet (its head, anchors, losses, assigner and test settings), with
# the backbone replaced and the FPN fed from the backbone's three outputs.
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.MobileFormer',
        arch='294m',
        out_indices=(1, 2, 4),  # strides 8, 16, 32 (the last one the expanded map)
        frozen_stages=5,  # everything: tokens, stem, blocks, final bridge and expansion
        norm_eval=True,
        # The last checkpoint of `python tools/train.py configs/qbheat_mobileformer_in1k.py`.
        init_cfg=dict(type='StrictPretrained', prefix='auto',
                      checkpoint='work_dirs/qbheat_mobileformer_in1k/epoch_300.pth')),
    neck=dict(in_channels=[48, 128, 1152], start_level=0),  # P6, P7 from the stride-32 map
    # MMDetection's head and focal loss with torchvision's NMS and the loss's PyTorch path
    # (qbheat_mm/det/fallbacks.py): the same boxes and losses, on a GPU without mmcv's CUDA
    # kernels too; with them, type='RetinaHead' and loss_cls.type='FocalLoss' use mmcv's.
    bbox_head=dict(type='TorchNMSRetinaHead', loss_cls=dict(type='TorchSigmoidFocalLoss')))

# CheckedCocoDataset: CocoDataset that stops with the file and field named when the json
# lacks info / area / iscrowd / bbox, uses unknown category ids or repeats annotation ids.
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
