# k-NN evaluation (cosine, k = 20, temperature 0.07, as in the self-supervised literature;
# KNNClassifier) of a frozen Mobile-Former-294M on ImageNet-1k: the training images (resize
# 256, centre crop 224, no augmentation) are the bank, the 50,000 val images the queries,
# scored by MMPretrain's Accuracy. Nothing trains. The bank holds 1.28M x 1152 features
# (5.9 GB in float32 per process, gathered on every rank in a distributed run).
#
#   python tools/analysis/knn_eval.py configs/knn/knn_mobileformer-294m_in1k.py --checkpoint CKPT
#   tools/torchrun.sh 8 tools/analysis/knn_eval.py configs/knn/knn_mobileformer-294m_in1k.py --checkpoint CKPT
_base_ = ['../_base_/models/mobileformer-294m_frozen.py', 'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
knn_loader = dict(batch_size=128, num_workers=8, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=False))
model = dict(
    type='KNNClassifier',
    num_classes=1000,
    k=20,
    temperature=0.07,
    bank=dict(knn_loader, dataset=dict(type='ImageNet', data_root='data/imagenet',
                                       split='train', pipeline=test_pipeline)))
test_dataloader = dict(knn_loader, dataset=dict(type='ImageNet', data_root='data/imagenet',
                                                split='val', pipeline=test_pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, 5))
test_cfg = dict()

default_hooks = dict(logger=dict(interval=50))
randomness = dict(seed=0)
