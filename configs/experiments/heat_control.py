# The known-answer control: images whose masked quarters are a fixed linear function of
# the visible one, so the learned operator must beat the frozen one
# (docs/en/experiments/control.md). A, B learned and frozen, block and recursive mode, two
# seeds; about 40 minutes on 2 CPU cores.
#
#   python tools/run_experiment.py configs/experiments/heat_control.py --work-dir work_dirs/heat_control
#   make control                                                                (the same)
type = 'ablation'
title = 'The known-answer control: learned against frozen heat operator'
config = 'configs/qbheat/qbheat_mobileformer-294m_1xb16-600i_heat-control.py'
scopes = ['quarter']
operators = ['learned', 'frozen']
modes = ['block', 'recursive']
seeds = [0, 1]
