# QB-Heat pre-training of MMPretrain's ResNet-18 on the laptop objects pool: the laptop
# QB-Heat recipe of Mobile-Former-294M (qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py:
# 128 px, the 64 px top-left quarter encoded, the default decoder, AdamW 1e-3) with
# ResNet-18's stage 4 (512 channels, 2 x 2 cells for the quarter) as the encoder, on the
# 8,192-image pool. The QB-Heat row on ResNet-18 of the converged laptop study
# (configs/experiments/laptop_study_converged.py), whose plan sets its length in images;
# run alone, it trains the 1,536 iterations below (24,576 images).
#
#   python tools/train.py configs/qbheat/qbheat_resnet18_1xb16_laptop-objects-pool.py
_base_ = './qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py'

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(in_channels=512),
    decoder=dict(in_channels=512))
train_dataloader = dict(dataset={{_base_.laptop_pool_dataset}})
train_cfg = dict(max_iters=1536, val_interval=10**6)  # validate once, after the last iteration
custom_hooks = [{{_base_.laptop_pool_knn_monitor}}]
