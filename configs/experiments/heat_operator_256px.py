# The same question at the recipe's 256 px, made decisive: the default decoder in block
# mode, A, B learned and frozen, three seeds of 2,400 iterations (the PSNR curve shows it
# has stopped rising); about 2.5 hours on 2 CPU cores
# (docs/en/experiments/heat_operator_256px.md).
#
#   python tools/run_experiment.py configs/experiments/heat_operator_256px.py --work-dir work_dirs/heat_ablation_256px
#   make ablation-256                                                           (the same)
type = 'ablation'
title = 'Heat-operator ablation at 256 px'
config = 'configs/qbheat/qbheat_mobileformer-294m_1xb8-2400i_demo-photos-256px.py'
scopes = ['quarter']
operators = ['learned', 'frozen']
modes = ['block']
seeds = [0, 1, 2]
