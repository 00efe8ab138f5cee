# The paper's comparison at full scale: Mobile-Former-294M pre-trained on ImageNet-1k by
# QB-Heat, QB-Heat with A and B frozen at zero, MoCo-v2 and supervised training (the
# project's recipes, each with its own published schedule: 300, 300, 200 and 450 epochs),
# plus a random init; each probed on ImageNet (linear, tran-1, k-NN) and transferred with
# a frozen backbone to COCO (RetinaNet 1x, DETR 150 epochs). Every stage runs on 8 GPUs
# through tools/dist_train.sh (tools/torchrun.sh for the k-NN); for slurm add
# --plan-options launcher.type=slurm launcher.partition=PARTITION.
#
#   python tools/run_experiment.py configs/experiments/paper_in1k.py --work-dir work_dirs/compare_in1k --dry-run
#   python tools/run_experiment.py configs/experiments/paper_in1k.py --work-dir work_dirs/compare_in1k
#
# Data: data/imagenet (MMPretrain's layout) and data/coco (MMDetection's), see
# docs/en/user_guides/datasets.md.
type = 'comparison'
title = 'Mobile-Former-294M pre-trainings on ImageNet-1k (probes on ImageNet, detection on COCO)'

pretrainings = [
    dict(name='qbheat', label='QB-Heat',
         config='configs/qbheat/qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'),
    dict(name='qbheat_frozen_op', label='QB-Heat, A = B = 0 frozen',
         config='configs/qbheat/qbheat_mobileformer-294m-frozenop_8xb256-coslr-300e_in1k.py'),
    dict(name='mocov2', label='MoCo-v2',
         config='configs/mocov2/mocov2_mobileformer-294m_8xb32-coslr-200e_in1k.py'),
    dict(name='supervised', label='supervised (ImageNet labels)',
         config='configs/mobileformer/mobileformer-294m_8xb128_in1k.py'),
    dict(name='random', label='random init', config=None),
]
evaluations = [
    dict(name='linear', label='linear top-1', metric='accuracy/top1',
         config='configs/probing/linear-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py'),
    # a random map is tiny and nearly constant: the paper's head needs standardised input
    dict(name='tran1', label='tran-1 top-1', metric='accuracy/top1',
         config='configs/probing/tran1-probe_mobileformer-294m_8xb128-coslr-90e_in1k.py',
         random_cfg_options=['model.head.norm_input=True']),
    dict(name='knn', label='k-NN top-1', metric='accuracy/top1', kind='knn',
         config='configs/knn/knn_mobileformer-294m_in1k.py'),
    dict(name='retinanet', label='RetinaNet AP', metric='coco/bbox_mAP', scale=100,
         config='configs/detection/retinanet_mobileformer-294m-qbheat-frozen_fpn_1x_coco.py'),
    dict(name='detr', label='DETR AP', metric='coco/bbox_mAP', scale=100,
         config='configs/detection/detr_mobileformer-294m-qbheat-frozen_8xb2-150e_coco.py'),
]
launcher = dict(type='dist', gpus=8)
seeds = [0]
