# RetinaNet on a FROZEN Mobile-Former-294M: MMDetection's RetinaNet (its FPN, head,
# anchors, focal loss, assigner and test settings) with the backbone replaced and the FPN
# fed from the backbone's stride 8 / 16 / 32 outputs (out_indices 1, 2 and 4: 48, 128
# and the expanded 1152 channels; P6 and P7 from the stride-32 map). The backbone is
# frozen entirely (frozen_stages=5) with BatchNorm in eval mode, so only the FPN and the
# head learn. The weights load strictly from `init_cfg.checkpoint`, which the detector
# of each pre-training sets (a full checkpoint or an extracted backbone; prefix found
# automatically); without one the run stops before training, never a random backbone
# (init_cfg=None asks for the random-init control).
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.MobileFormer',
        arch='294m',
        out_indices=(1, 2, 4),  # strides 8, 16, 32 (the last one the expanded map)
        frozen_stages=5,  # everything: tokens, stem, blocks, final bridge and expansion
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=None, prefix='auto')),
    neck=dict(in_channels=[48, 128, 1152], start_level=0),  # P6, P7 from the stride-32 map
    # MMDetection's head and focal loss with torchvision's NMS and the loss's PyTorch path
    # (qbheat_mm/det/fallbacks.py): the same boxes and losses, on a GPU without mmcv's CUDA
    # kernels too; with them, type='RetinaHead' and loss_cls.type='FocalLoss' use mmcv's.
    bbox_head=dict(type='TorchNMSRetinaHead', loss_cls=dict(type='TorchSigmoidFocalLoss')))
