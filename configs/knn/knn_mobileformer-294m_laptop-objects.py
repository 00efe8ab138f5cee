# k-NN evaluation (cosine, k = 20, temperature 0.07; KNNClassifier) of a frozen
# Mobile-Former-294M on the laptop objects: the ImageNet k-NN config with the 768
# training images (un-augmented) as the bank and the 256 val images as the queries.
# Nothing trains: one pass over 1,024 images, the fastest sanity check of a checkpoint.
#
#   python tools/analysis/knn_eval.py configs/knn/knn_mobileformer-294m_laptop-objects.py \
#       --checkpoint CKPT            (or --random for the random-init control)
_base_ = './knn_mobileformer-294m_in1k.py'

work_dir = None
laptop_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]  # 128 px already
model = dict(
    num_classes=16,
    data_preprocessor=dict(num_classes=16),
    bank=dict(batch_size=64, num_workers=0,
              dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='train',
                           pipeline=laptop_pipeline)))
test_dataloader = dict(batch_size=64, num_workers=0,
                       dataset=dict(_delete_=True, type='LaptopObjectsDataset', split='val',
                                    pipeline=laptop_pipeline))
default_hooks = dict(logger=dict(interval=10))
