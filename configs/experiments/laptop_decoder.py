# Does a lighter QB-Heat decoder cost quality? The laptop-scale comparison's evaluations
# (configs/experiments/laptop.py) for QB-Heat pre-trained with three decoders, run by
#
#   python tools/run_experiment.py configs/experiments/laptop_decoder.py \
#       --work-dir work_dirs/compare_laptop_decoder
#
# The default decoder (4 blocks x 256 wide) against two that take about 40 % of its
# arithmetic: 2 blocks x 192 and 4 blocks x 128 (docs/en/benchmarks.md times the first).
# Everything else, data and seed included, is the laptop comparison's.
_base_ = './laptop.py'

title = 'QB-Heat decoder size at laptop scale (Mobile-Former-294M, laptop objects, demo COCO)'

_qbheat = 'configs/qbheat/qbheat_mobileformer-294m_1xb16-120i_laptop-objects.py'
pretrainings = [
    dict(name='qbheat', label='QB-Heat, decoder 4 x 256 (default)', config=_qbheat),
    dict(name='qbheat_dec2x192', label='QB-Heat, decoder 2 x 192', config=_qbheat,
         cfg_options=['model.decoder.depth=2', 'model.decoder.embed_dims=192']),
    dict(name='qbheat_dec4x128', label='QB-Heat, decoder 4 x 128', config=_qbheat,
         cfg_options=['model.decoder.embed_dims=128']),
]
