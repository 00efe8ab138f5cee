# The probe images of the laptop objects (qbheat_mm/datasets/laptop_objects.py): 768
# train / 256 val images of 128 px, 16 classes, un-augmented, as the converged probes
# read them (`probe_data` of tools/analysis/feature_probes.py).
_probe_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
probe_data = dict(
    batch_size=64,
    train=dict(type='LaptopObjectsDataset', split='train', pipeline=_probe_pipeline),
    val=dict(type='LaptopObjectsDataset', split='val', pipeline=_probe_pipeline))
