# The demo probes' loops (configs/probing/*_demo-photos.py): 12 epochs of 10 iterations,
# validated every 4. Each probe config writes its optimiser and learning-rate schedule.
train_cfg = dict(by_epoch=True, max_epochs=12, val_interval=4)
val_cfg = dict()
test_cfg = dict()
