# k-NN evaluation (cosine, k = 20, temperature 0.07; KNNClassifier) of a frozen
# Mobile-Former-294M on the laptop objects: the ImageNet k-NN config's classifier
# (knn_mobileformer-294m_in1k.py) with the 768 training images (un-augmented) as the bank
# and the 256 val images as the queries. Nothing trains: one pass over 1,024 images, the
# fastest sanity check of a checkpoint.
#
#   python tools/analysis/knn_eval.py configs/knn/knn_mobileformer-294m_laptop-objects.py \
#       --checkpoint CKPT            (or --random for the random-init control)
_base_ = ['../_base_/models/mobileformer-294m_frozen.py', 'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
work_dir = None

laptop_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]  # 128 px already
knn_loader = dict(batch_size=64, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=False))
model = dict(
    type='KNNClassifier',
    num_classes=16,
    k=20,
    temperature=0.07,
    data_preprocessor=dict(num_classes=16),
    bank=dict(knn_loader, dataset=dict(type='LaptopObjectsDataset', split='train',
                                       pipeline=laptop_pipeline)))
test_dataloader = dict(knn_loader, dataset=dict(type='LaptopObjectsDataset', split='val',
                                                pipeline=laptop_pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, 5))
test_cfg = dict()

default_hooks = dict(logger=dict(interval=10))
randomness = dict(seed=0)
