# Supervised pre-training of Mobile-Former-294M for the longer laptop study: the laptop
# comparison's config (mobileformer-294m_1xb16-120i_laptop-objects.py) on the
# 8,192-image pool, for a wall-clock budget instead of 120 iterations. The plan
# (configs/experiments/laptop_long.py, `make compare-long`) times the step on the machine
# it runs on and sets train_cfg.max_iters to fill 15 minutes; run alone, it trains the
# 1,000 iterations below. The learning rate decays over whatever max_iters is.
#
#   python tools/train.py configs/mobileformer/mobileformer-294m_1xb16-15min_laptop-objects-pool.py
_base_ = './mobileformer-294m_1xb16-120i_laptop-objects.py'

train_dataloader = dict(dataset={{_base_.laptop_pool_dataset}})
train_cfg = dict(max_iters=1000, val_interval=10**6)  # validate once, after the last iteration
custom_hooks = [{{_base_.laptop_pool_knn_monitor}}]
