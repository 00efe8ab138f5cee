# The laptop objects' dev set, what the recipe ablations (heat_prior_laptop.py,
# recipe_laptop.py) score on and the only laptop images besides the pool their runs read:
# 768 train / 256 val images of 128 px generated like the converged study's probe set with
# a seed of their own (2, into data/laptop_objects_dev/), so none is an image of the
# study's probe set (seed 0) or of the pool (seed 1)
# (docs/en/experiments/heat_prior_and_recipe.md).
#
# Every row's k-NN monitor and last validation read the dev set too, so no run reads the
# study's probe images (data/laptop_objects; tests/experiments/test_plan.py checks it).
cfg_options = [f'{part}.dataset.{key}={value}'
               for part in ('custom_hooks.0.bank', 'custom_hooks.0.query', 'val_dataloader')
               for key, value in (('data_root', 'data/laptop_objects_dev'), ('seed', 2))]
# The converged probes on the dev set.
evaluations = [dict(
    name='probes', label='converged probes (dev set)', kind='features',
    config=dict(
        mobileformer='configs/probing/feature-probes_mobileformer-294m_laptop-objects-dev.py'))]
