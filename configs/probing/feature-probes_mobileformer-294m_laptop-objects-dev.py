# The converged probes of feature-probes_mobileformer-294m_laptop-objects.py on the laptop
# objects' DEV set: 768 train / 256 val images of 128 px generated like the study's probe
# set with a seed of their own (2, into data/laptop_objects_dev/), so that none of them is
# an image of the study's probe set (seed 0) or of the pre-training pool (seed 1). What
# the recipe ablations choose by (configs/experiments/heat_prior_laptop.py,
# recipe_laptop.py); the study's val is never scored by them
# (docs/en/experiments/heat_prior_and_recipe.md).
#
#   python tools/analysis/feature_probes.py configs/probing/feature-probes_mobileformer-294m_laptop-objects-dev.py \
#       --checkpoint CKPT --work-dir DIR
_base_ = './feature-probes_mobileformer-294m_laptop-objects.py'

_dev = dict(data_root='data/laptop_objects_dev', seed=2)
probe_data = dict(train=_dev, val=_dev)
