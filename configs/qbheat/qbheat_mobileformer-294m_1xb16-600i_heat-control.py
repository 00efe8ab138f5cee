# The known-answer control (a control, not a benchmark): the demo's model on images whose
# masked quarters are, by construction, a fixed linear function of the visible quarter
# that copying gets wrong (HeatControlDataset: two plane waves with fixed wave vectors and
# random amplitudes, phases and colours). A working QB-Heat must beat its frozen operator
# here; see docs/en/experiments/control.md.
#
#   make control          (learned and frozen operator, block and recursive, two seeds)
#   python tools/train.py configs/qbheat/qbheat_mobileformer-294m_1xb16-600i_heat-control.py
#
# Images are made on the fly (nothing is written to data/), every training image is new;
# no augmentation, which would break the linear law (a flip mirrors the wave vectors).
# The validation also logs the data's known answer and the best a frozen operator can
# reach (psnr_masked_known, psnr_masked_shared). Everything else is the demo's.
_base_ = './qbheat_mobileformer-294m_1xb16-800i_demo-photos.py'

work_dir = 'work_dirs/qbheat_heat_control'
max_iters = 600
waves = ((1.5, 1.0), (1.0, -1.5))  # HeatControlDataset's default, stated for the metric

control_pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='HeatControlDataset', split='train', waves=waves,
                 num_samples=16 * max_iters, img_size=128, pipeline=control_pipeline))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='HeatControlDataset', split='val', waves=waves,
                 num_samples=128, img_size=128, pipeline=control_pipeline, test_mode=True))
val_evaluator = dict(type='ReconstructionMetric', control_waves=waves)

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters - 50, eta_min=1e-5, by_epoch=False,
         begin=50, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [dict(type='QBHeatVisualizationHook', interval=max_iters, num_images=4)]
