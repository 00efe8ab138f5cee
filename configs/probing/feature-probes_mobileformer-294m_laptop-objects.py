# Converged probes of a frozen Mobile-Former-294M on the laptop objects (768 train / 256
# val images of 128 px, 16 classes): features extracted once per layer and BatchNorm
# regime, then an L-BFGS logistic regression (L2 cross-validated on train), an
# early-stopped tran-1 head and k-NN (raw and standardised), all scored on val once.
#
#   python tools/analysis/feature_probes.py configs/probing/feature-probes_mobileformer-294m_laptop-objects.py \
#       --checkpoint CKPT --work-dir DIR          (or --random --seed S: the random init)
_base_ = ['../_base_/models/mobileformer-294m_frozen.py',
          '../_base_/datasets/laptop-objects_probe.py',
          '../_base_/schedules/converged-probes.py', 'mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['qbheat_mm'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(num_classes=16))
probe_protocol = dict(
    layers=dict(last=4, inner=3),
    layer_labels=dict(last='the expanded stride-32 map (1152-d)',
                      inner='the stride-32 map before the 1 x 1 expansion (192-d)'))
