# Does the learned heat operator help on the demo photographs (128 px)? {per-quarter,
# global decoder} x {A, B learned, frozen} x {block, recursive}, two seeds
# (docs/en/experiments/heat_operator_ablation.md).
#
#   python tools/run_experiment.py configs/experiments/heat_operator_demo.py --work-dir work_dirs/heat_ablation_demo
#   make ablation                                                               (the same)
type = 'ablation'
title = 'Heat-operator ablation on the demo photographs (128 px)'
config = 'configs/qbheat_mobileformer_demo.py'
scopes = ['quarter', 'global']
operators = ['learned', 'frozen']
modes = ['block', 'recursive']
seeds = [0, 1]
