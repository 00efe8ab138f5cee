# The embedded demo: QB-Heat pre-training of Mobile-Former-294M on photographs that ship
# inside scikit-image, on the CPU (2 cores, about 6 minutes). Nothing is downloaded.
#
#   python tools/train.py configs/qbheat_mobileformer_demo.py          (what `make demo` runs)
#
# The short entry point: everything lives in the OpenMMLab-named config below (model,
# data, schedule, runtime); configs that build on the demo inherit that file, not this one.
_base_ = './qbheat/qbheat_mobileformer-294m_1xb16-800i_demo-photos.py'
