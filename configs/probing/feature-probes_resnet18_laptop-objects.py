# Converged probes of a frozen ResNet-18 on the laptop objects: the protocol of
# feature-probes_mobileformer-294m_laptop-objects.py on MMPretrain's ResNet-18 (the
# backbone of the SparK, QB-Heat and MoCo-v2 rows on ResNet-18).
#
#   python tools/analysis/feature_probes.py configs/probing/feature-probes_resnet18_laptop-objects.py \
#       --checkpoint CKPT --work-dir DIR          (or --random --seed S: the random init)
_base_ = ['../_base_/models/resnet18_frozen.py',
          '../_base_/datasets/laptop-objects_probe.py',
          '../_base_/schedules/converged-probes.py', 'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(num_classes=16))
probe_protocol = dict(
    layers=dict(last=3, inner=2),
    layer_labels=dict(last='stage 4, stride 32 (512-d)', inner='stage 3, stride 16 (256-d)'))
