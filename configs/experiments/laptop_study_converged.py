# The laptop study with a ruler that can rank pre-trainings (2 CPU cores, nothing
# downloaded), run by
#
#   python tools/run_experiment.py configs/experiments/laptop_study_converged.py --work-dir work_dirs/laptop_study_converged
#   make study                                                                  (the same)
#
# Every pre-training sees the same 24,576 images (three passes over the 8,192-image pool,
# batch 16: 1,536 iterations), whatever its step costs; its wall clock is reported. Rows:
# on Mobile-Former-294M, QB-Heat, QB-Heat with A = B = 0 frozen, MoCo-v2, supervised and
# a random init (the laptop study's recipes); on ResNet-18, MMPretrain's SparK (the
# reference masked-modelling method), QB-Heat, MoCo-v2 and a random init. Each row goes
# through the converged probes (linear, tran-1, k-NN on two layers and three BatchNorm
# regimes; configs/_base_/schedules/converged-probes.py) and, on Mobile-Former, the frozen
# RetinaNet. Two seeds each. The protocol, the headline layer and regime and how to read
# the outcome were committed before any of its results existed
# (docs/en/experiments/laptop_study_converged.md).
_base_ = '../_base_/experiments/laptop_evaluations.py'

type = 'comparison'
title = ('Pre-trainings of equal images seen (24,576), converged probes '
         '(laptop objects pool, demo COCO)')
budget_images = 24576
_pool = 'laptop-objects-pool.py'
_qbheat_mf = 'configs/qbheat/qbheat_mobileformer-294m_1xb16-15min_' + _pool
pretrainings = [
    dict(name='qbheat', label='QB-Heat (MF)', backbone='mobileformer', config=_qbheat_mf,
         images=budget_images),
    dict(name='qbheat_frozen_op', label='QB-Heat, A = B = 0 frozen (MF)',
         backbone='mobileformer', config=_qbheat_mf,
         cfg_options=['model.neck.freeze_operator=True'], images=budget_images),
    dict(name='mocov2', label='MoCo-v2 (MF)', backbone='mobileformer',
         config='configs/mocov2/mocov2_mobileformer-294m_1xb16-15min_' + _pool,
         images=budget_images),
    dict(name='supervised', label='supervised, pool labels (MF)', backbone='mobileformer',
         config='configs/mobileformer/mobileformer-294m_1xb16-15min_' + _pool,
         images=budget_images),
    dict(name='random', label='random init (MF)', backbone='mobileformer', config=None),
    dict(name='spark_r18', label='SparK (R18)', backbone='resnet18',
         config='configs/spark/spark_resnet18_1xb16_' + _pool, images=budget_images),
    dict(name='qbheat_r18', label='QB-Heat (R18)', backbone='resnet18',
         config='configs/qbheat/qbheat_resnet18_1xb16_' + _pool, images=budget_images),
    dict(name='mocov2_r18', label='MoCo-v2 (R18)', backbone='resnet18',
         config='configs/mocov2/mocov2_resnet18_1xb16_' + _pool, images=budget_images),
    dict(name='random_r18', label='random init (R18)', backbone='resnet18', config=None),
]
evaluations = [{{_base_.probes}}, {{_base_.retinanet_mobileformer}}]
launcher = dict(type='local')
seeds = [0, 1]
reference = 'qbheat'
