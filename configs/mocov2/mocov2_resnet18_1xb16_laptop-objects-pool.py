# MoCo-v2 pre-training of MMPretrain's ResNet-18 on the laptop objects pool: the laptop
# MoCo-v2 recipe of Mobile-Former-294M (mocov2_mobileformer-294m_1xb16-120i_laptop-objects.py:
# two 128 px views, a queue of 512 keys, key momentum 0.99, SGD lr 0.03) with
# ResNet-18's pooled stage 4 (512-d) under the MoCo-v2 projector, on the 8,192-image pool.
# The MoCo-v2 row on ResNet-18 of the converged laptop study
# (configs/experiments/laptop_study_converged.py), whose plan sets its length in images;
# run alone, it trains the 1,536 iterations below (24,576 images of two views).
#
#   python tools/train.py configs/mocov2/mocov2_resnet18_1xb16_laptop-objects-pool.py
_base_ = './mocov2_mobileformer-294m_1xb16-120i_laptop-objects.py'

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(in_channels=512))
train_dataloader = dict(dataset={{_base_.laptop_pool_dataset}})
train_cfg = dict(max_iters=1536)
custom_hooks = [{{_base_.laptop_pool_knn_monitor}}]
