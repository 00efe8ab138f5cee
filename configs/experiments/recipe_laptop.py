# The recipe suspects of QB-Heat at small scale, one change at a time (issue "Make the
# heat prior bind", item 3), on the laptop pool with the converged probes, run by
#
#   python tools/run_experiment.py configs/experiments/recipe_laptop.py --work-dir work_dirs/recipe_laptop
#
# The laptop study's QB-Heat recipe and budget (24,576 images of the pool) and one change
# per row:
# - `stats_w0`: no loss on the predicted cell statistics (`stats_loss_weight=0`; at
#   initialisation loss_stats sends about 48 times loss_pix's gradient to the encoder);
# - `detach_stats`: the statistics predicted from detached features (the honest
#   reconstructions stay, no encoder gradient from them);
# - `px256`: pre-training at 256 px (the visible quarter 4 x 4 cells, as the ImageNet
#   recipe), on the pool generated at 256 px (data/laptop_objects_pool_256/); probed like
#   every row on the dev set at 128 px;
# - `lr2.5e-4`, `lr1e-4`: the learning rate (today 1e-3 at batch 16, about 100 times
#   MAE's scaling rule).
# The sixth suspect, the BatchNorm statistics the probes use (the quarters' against ones
# recalibrated at the probe's size), needs no run: every row is probed in both regimes.
# Scored ONLY on the dev set (configs/_base_/experiments/laptop_dev_set.py: the probes,
# the k-NN monitor and the last validation), never on the study's val. Two seeds.
# The reading rules were committed with this file, before any of its runs
# (docs/en/experiments/heat_prior_and_recipe.md).
_base_ = '../_base_/experiments/laptop_dev_set.py'  # cfg_options, evaluations

type = 'comparison'
title = 'QB-Heat recipe suspects, one change each, at equal images (laptop pool, dev set)'
budget_images = 24576
_config = 'configs/qbheat/qbheat_mobileformer-294m_1xb16-15min_laptop-objects-pool.py'
_arm = dict(backbone='mobileformer', config=_config, images=budget_images)
pretrainings = [
    dict(_arm, name='baseline', label="today's recipe"),
    dict(_arm, name='stats_w0', label='stats_loss_weight = 0',
         cfg_options=['model.head.stats_loss_weight=0.0']),
    dict(_arm, name='detach_stats', label='statistics from detached features',
         cfg_options=['model.decoder.detach_stats=True']),
    dict(_arm, name='px256', label='256 px pre-training',
         cfg_options=[
             'train_dataloader.dataset.img_size=256',
             'train_dataloader.dataset.data_root=data/laptop_objects_pool_256',
             'train_dataloader.dataset.pipeline.1.scale=256']),
    dict(_arm, name='lr2.5e-4', label='lr 2.5e-4',
         cfg_options=['optim_wrapper.optimizer.lr=0.00025']),
    dict(_arm, name='lr1e-4', label='lr 1e-4',
         cfg_options=['optim_wrapper.optimizer.lr=0.0001']),
]
launcher = dict(type='local')
seeds = [0, 1]
reference = 'baseline'
