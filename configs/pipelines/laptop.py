# The paper's comparison at laptop scale (2 CPU cores, nothing downloaded), run by
#
#   python tools/compare_pretrainings.py configs/pipelines/laptop.py --work-dir work_dirs/compare_laptop
#   make compare                                                        (the same)
#
# Five backbones, all Mobile-Former-294M: QB-Heat, QB-Heat with A and B frozen at zero (the
# control that says whether the heat operator helps), MoCo-v2, supervised pre-training on
# the laptop objects' labels (each 120 iterations x 16 images of the laptop objects'
# training split), and a random init. Each goes through a linear probe, a tran-1 probe
# and a k-NN classifier on the laptop objects, and a frozen-backbone RetinaNet, DETR and
# Conditional DETR (the faster-converging DETR-family stand-in) on the demo COCO set.
title = 'Mobile-Former-294M pre-trainings at laptop scale (laptop objects, demo COCO)'

pretrainings = [
    dict(name='qbheat', label='QB-Heat',
         config='configs/laptop/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py'),
    dict(name='qbheat_frozen_op', label='QB-Heat, A = B = 0 frozen',
         config='configs/laptop/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py',
         cfg_options=['model.neck.freeze_operator=True']),
    dict(name='mocov2', label='MoCo-v2',
         config='configs/laptop/mocov2_mobileformer-294m_1xb16-120i_laptop-objects.py'),
    dict(name='supervised', label='supervised (laptop labels)',
         config='configs/laptop/supervised_mobileformer-294m_1xb16-120i_laptop-objects.py'),
    dict(name='random', label='random init', config=None),
]
evaluations = [
    dict(name='linear', label='linear top-1', metric='accuracy/top1',
         config='configs/laptop/linear-probe_mobileformer-294m_1xb32-coslr-5e_laptop-objects.py'),
    dict(name='tran1', label='tran-1 top-1', metric='accuracy/top1',
         config='configs/laptop/tran1-probe_mobileformer-294m_1xb32-coslr-5e_laptop-objects.py'),
    dict(name='knn', label='k-NN top-1', metric='accuracy/top1', kind='knn',
         config='configs/laptop/knn_mobileformer-294m_laptop-objects.py'),
    dict(name='retinanet', label='RetinaNet AP', metric='coco/bbox_mAP', scale=100,
         config='configs/laptop/retinanet_mobileformer-294m-frozen_fpn_1xb8-6e_demo-coco.py'),
    dict(name='detr', label='DETR AP', metric='coco/bbox_mAP', scale=100,
         config='configs/laptop/detr_mobileformer-294m-frozen_1xb8-10e_demo-coco.py'),
    dict(name='cond_detr', label='Cond. DETR AP', metric='coco/bbox_mAP', scale=100,
         config='configs/laptop/conditional-detr_mobileformer-294m-frozen_1xb8-10e_demo-coco.py'),
]
launcher = dict(type='local')
seeds = [0]
