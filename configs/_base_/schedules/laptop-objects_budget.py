# The laptop-scale budget every pre-training gets (the *_laptop-objects configs, run by
# tools/run_experiment.py with configs/experiments/laptop.py) and the k-NN monitor of the
# encoder being pre-trained; the data is configs/_base_/datasets/laptop-objects.py.

# Every pre-training sees the same images the same number of times: batch 16 x 120
# iterations = 1,920 images (2.5 passes over the 768 training images). Sized for a budget
# of about 45 minutes of 2 CPU cores for the whole comparison (what it took:
# docs/en/experiments/laptop_comparison.md); pass --cfg-options train_cfg.max_iters=N to a
# config to train longer (its cosine schedule ends at max_iters).
laptop_pretrain_iters = 120
laptop_knn_interval = 120  # the k-NN monitor checks before the first and after the last

# The online k-NN check of the encoder being pre-trained (train split as the bank, val
# as the queries, both un-augmented), logged as knn/top1 next to the other metrics.
laptop_knn_loader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
laptop_knn_monitor = dict(
    type='KNNMonitorHook',
    num_classes=16,
    interval=laptop_knn_interval,
    bank=dict(laptop_knn_loader, dataset=dict(
        type='LaptopObjectsDataset', split='train',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])),
    query=dict(laptop_knn_loader, dataset=dict(
        type='LaptopObjectsDataset', split='val',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])))

# The longer laptop study (configs/experiments/laptop_long.py, `make compare-long`): every
# pre-training gets the same wall-clock budget instead of the same iterations, on a pool
# of 8,192 training images (512 per class, generated with another seed into
# data/laptop_objects_pool/, so no probe or k-NN image is among them), large enough that
# no pool image is seen more than about 10 times in the budget. The evaluations still
# read data/laptop_objects/. The monitor checks 8 times, evenly over however many
# iterations the budget buys.
laptop_pool_dataset = dict(data_root='data/laptop_objects_pool', num_train=512, seed=1)
laptop_pool_knn_monitor = dict(laptop_knn_monitor, num_checks=8)
