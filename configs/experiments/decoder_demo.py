# Does the lighter decoder cost quality on the demo? The default row of the demo ablation
# (per-quarter decoder, A, B learned, block mode), two seeds; run once as is (4 x 256) and
# once with the lighter decoder (docs/en/experiments/decoder_ablation.md):
#
#   python tools/run_experiment.py configs/experiments/decoder_demo.py --work-dir work_dirs/decoder_ablation_demo/4x256
#   python tools/run_experiment.py configs/experiments/decoder_demo.py --work-dir work_dirs/decoder_ablation_demo/2x192 \
#       --plan-options "cfg_options=['model.decoder.depth=2','model.decoder.embed_dims=192']"
type = 'ablation'
title = 'The demo with the default or the lighter decoder'
config = 'configs/qbheat_mobileformer_demo.py'
scopes = ['quarter']
operators = ['learned']
modes = ['block']
seeds = [0, 1]
