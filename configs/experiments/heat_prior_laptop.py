# Does the heat prior help? The operator ablation that isolates it (issue "Make the heat
# prior bind"), on the laptop pool with the converged probes, run by
#
#   python tools/run_experiment.py configs/experiments/heat_prior_laptop.py --work-dir work_dirs/heat_prior_laptop
#
# QB-Heat on Mobile-Former-294M with the laptop study's recipe and budget (24,576 images of
# the 8,192-image pool), one change per row:
# - `block`: the default (learned A, B; the decoder's first Linear 1152 -> 256 can undo
#   the prior: docs/en/method.md, "When the heat operator binds");
# - `free`: three independent per-quarter projections, no prior at all; the proof
#   predicts it trains like `block` (tests/models/necks/test_heat_prior.py);
# - `frozen`: A = B = 0, one prediction shared by the three masked quarters;
# - `recursive` and `finola`: one A and one B applied cell by cell from the border (the
#   prior binds);
# - `block_binding`: block mode with the prior binding, a 1 x 1 projection 1152 -> 256
#   before A, B and a decoder input as wide (E is square, so E(I + B)(I + A) is no longer
#   free).
# Scored ONLY on the dev set (configs/_base_/experiments/laptop_dev_set.py: the probes,
# the k-NN monitor and the last validation), never on the study's val. Two seeds.
# The reading rules were committed with this file, before any of its runs
# (docs/en/experiments/heat_prior_and_recipe.md).
_base_ = '../_base_/experiments/laptop_dev_set.py'  # cfg_options, evaluations

type = 'comparison'
title = 'The heat prior, isolated: operator arms at equal images (laptop pool, dev set)'
budget_images = 24576
_config = 'configs/qbheat/qbheat_mobileformer-294m_1xb16-15min_laptop-objects-pool.py'
_arm = dict(backbone='mobileformer', config=_config, images=budget_images)
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
launcher = dict(type='local')
seeds = [0, 1]
reference = 'block'
