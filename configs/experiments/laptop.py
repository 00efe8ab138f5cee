# The paper's comparison at laptop scale (2 CPU cores, nothing downloaded), run by
#
#   python tools/run_experiment.py configs/experiments/laptop.py --work-dir work_dirs/compare_laptop
#   make compare                                                        (the same)
#
# Five backbones, all Mobile-Former-294M: QB-Heat, QB-Heat with A and B frozen at zero (the
# control that says whether the heat operator helps), MoCo-v2, supervised pre-training on
# the laptop objects' labels (each 120 iterations x 16 images of the laptop objects'
# training split), and a random init. Each goes through a linear probe, a tran-1 probe
# and a k-NN classifier on the laptop objects, and a frozen-backbone RetinaNet, DETR and
# Conditional DETR (the faster-converging DETR-family stand-in) on the demo COCO set.
_base_ = '../_base_/experiments/laptop_evaluations.py'

type = 'comparison'

title = 'Mobile-Former-294M pre-trainings at laptop scale (laptop objects, demo COCO)'

pretrainings = [
    dict(name='qbheat', label='QB-Heat',
         config='configs/qbheat/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py'),
    dict(name='qbheat_frozen_op', label='QB-Heat, A = B = 0 frozen',
         config='configs/qbheat/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py',
         cfg_options=['model.neck.freeze_operator=True']),
    dict(name='mocov2', label='MoCo-v2',
         config='configs/mocov2/mocov2_mobileformer-294m_1xb16-120i_laptop-objects.py'),
    dict(name='supervised', label='supervised (laptop labels)',
         config='configs/mobileformer/mobileformer-294m_1xb16-120i_laptop-objects.py'),
    dict(name='random', label='random init', config=None),
]
evaluations = [{{_base_.linear}}, {{_base_.tran1}}, {{_base_.knn}}, {{_base_.retinanet}},
               {{_base_.detr}}, {{_base_.cond_detr}}]
launcher = dict(type='local')
seeds = [0]
