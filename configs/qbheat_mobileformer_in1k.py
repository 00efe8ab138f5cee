# QB-Heat pre-training of Mobile-Former-294M on ImageNet-1k: the entry point.
#
#   tools/dist_train.sh configs/qbheat_mobileformer_in1k.py 8
#   python tools/train.py configs/qbheat_mobileformer_in1k.py          (one GPU / CPU)
#
# Everything lives in the OpenMMLab-named config below (model, data, recipe, runtime).
_base_ = './qbheat/qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'
