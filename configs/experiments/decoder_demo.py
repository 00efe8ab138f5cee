# Does the lighter decoder cost quality on the demo? The default row of the demo ablation
# (per-quarter decoder, A, B learned, block mode) with the default decoder (4 x 256) and
# the lighter one (2 x 192), two seeds each, scored by the honest masked PSNR of each
# run's own validation (docs/en/experiments/decoder_ablation.md):
#
#   python tools/run_experiment.py configs/experiments/decoder_demo.py --work-dir work_dirs/decoder_ablation_demo
type = 'comparison'
title = 'The demo with the default or the lighter decoder'
_demo = 'configs/qbheat_mobileformer_demo.py'
pretrainings = [
    dict(name='dec4x256', label='decoder 4 x 256 (default)', config=_demo,
         axes=dict(decoder='4x256')),
    dict(name='dec2x192', label='decoder 2 x 192', config=_demo,
         cfg_options=['model.decoder.depth=2', 'model.decoder.embed_dims=192'],
         axes=dict(decoder='2x192')),
]
evaluations = [dict(name='recon', kind='validation')]  # the masked PSNR and its baselines
contrast = dict(axis='decoder', minus='4x256')
seeds = [0, 1]
