# Option: a lighter decoder, 2 blocks x 192 wide instead of 4 x 256 (about 40 % of the
# decoder's arithmetic). It brings the step within 1.35x of the encoder-on-quarter floor
# and the neck + decoder under a quarter of the step on the benchmark machine; the demo
# and the laptop-scale probes measured with it are in docs/en/benchmarks.md and
# docs/en/experiments/decoder_ablation.md. Everything else as the base.
_base_ = './qbheat_mobileformer-294m_8xb256-coslr-300e_in1k.py'

model = dict(decoder=dict(depth=2, embed_dims=192))
