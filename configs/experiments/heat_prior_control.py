# The operator arms of heat_prior_laptop.py on the known-answer control, where the answer
# is known (docs/en/experiments/control.md: the masked quarters are a fixed linear
# function of the visible one), run by
#
#   python tools/run_experiment.py configs/experiments/heat_prior_control.py --work-dir work_dirs/heat_prior_control
#
# The control's config and schedule (600 iterations), one change per row, scored by each
# run's own validation (the honest masked PSNR, the data's exact answer and the best a
# shared prediction can reach). Two seeds; about 20 minutes a row-seed pair on 2 cores.
# The reading rules were committed with this file, before any of its runs
# (docs/en/experiments/heat_prior_and_recipe.md).
type = 'comparison'
title = 'The heat prior, isolated, on the known-answer control'
_arm = dict(config='configs/qbheat/qbheat_mobileformer-294m_1xb16-600i_heat-control.py')
pretrainings = [
    dict(_arm, name='block', label='block, learned A, B (default)'),
    dict(_arm, name='free', label='free: three per-quarter projections (no prior)',
         cfg_options=['model.neck.mode=free']),
    dict(_arm, name='frozen', label='block, A = B = 0 frozen (shared)',
         cfg_options=['model.neck.freeze_operator=True']),
    dict(_arm, name='recursive', label='recursive (prior binds)',
         cfg_options=['model.neck.mode=recursive']),
    dict(_arm, name='finola', label='finola (prior binds)',
         cfg_options=['model.neck.mode=finola']),
    dict(_arm, name='block_binding', label='block, 1152 -> 256 before A, B (prior binds)',
         cfg_options=['model.neck.proj_channels=256', 'model.decoder.in_channels=256']),
]
evaluations = [dict(name='recon', kind='validation')]
launcher = dict(type='local')
seeds = [0, 1]
reference = 'block'
