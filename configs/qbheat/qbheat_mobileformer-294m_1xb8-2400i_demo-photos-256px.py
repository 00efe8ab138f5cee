# The 256 px demo (qbheat_mobileformer-294m_1xb8-600i_demo-photos-256px.py: 256 px,
# batch 8, 320 training crops of the demo photographs), four times longer: the schedule of
# the decisive heat-operator ablation (docs/en/experiments/heat_operator_256px.md), long
# enough for the masked PSNR to stop rising; validated every 200 iterations for the curve.
#
#   make ablation-256     (learned and frozen operator, block mode, three seeds)
_base_ = './qbheat_mobileformer-294m_1xb8-600i_demo-photos-256px.py'

work_dir = 'work_dirs/qbheat_demo_256px_2400i'
max_iters = 2400

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters - 50, eta_min=1e-5, by_epoch=False,
         begin=50, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
# A checkpoint every validation (only the last kept): a killed run resumes from it.
default_hooks = dict(checkpoint=dict(interval=200, max_keep_ckpts=1))
custom_hooks = [dict(type='QBHeatVisualizationHook', interval=max_iters, num_images=4)]
