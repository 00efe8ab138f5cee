# The ImageNet probes' loops (configs/probing/*_in1k.py): 90 epochs, validated every 10;
# their learning rates are written for 8 x 128, which --auto-scale-lr rescales. Each probe
# config writes its optimiser and learning-rate schedule.
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
