# The converged-probe protocol of the laptop-scale comparisons (tools/analysis/
# feature_probes.py, qbheat_mm/evaluation/probe_protocol.py), fixed before any result it
# judges (docs/en/experiments/laptop_study_converged.md says why each choice). Each
# backbone's feature-probe config adds `layers` (name -> output index) and their labels.
probe_protocol = dict(
    # BatchNorm regimes (qbheat_mm/evaluation/features.py): the saved statistics; the
    # statistics recalibrated on the probe's train images at the probe's size (one regime
    # for every row, the random init included: the headline); the saved statistics on
    # the four quarters, the input size QB-Heat pre-trains on.
    regimes=['saved', 'recalibrated', 'quarters'],
    probes=['linear', 'tran1', 'knn', 'knn_std'],
    # `last`: the map every method's pre-training objective reads (Mobile-Former's
    # expanded map, ResNet's stage 4), the layer the paper and the ImageNet probes use.
    headline=dict(layer='last', regime='recalibrated'),
    # L-BFGS logistic regression to a gradient tolerance of 1e-4 (scikit-learn's, which
    # the CLIP paper's probes used; 1e-6 chose the same L2 and scored the same top-1 on
    # the random init's features, at three times the cost); the L2 strength chosen by
    # 5-fold cross-validation on the train split (never on val; at most 1,000 iterations
    # a fold), then refitted on all of it (at most 10,000).
    linear=dict(l2_grid=[1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0], folds=5,
                max_iter=1000, refit_max_iter=10000, tol=1e-4),
    # tran-1 on the cached maps: 20 % of each class of train held out; AdamW at a
    # constant rate; stop when held-out top-1 has not improved for 20 epochs; the best
    # held-out epoch's weights are scored on val.
    tran1=dict(head=dict(embed_dims=256, depth=1, num_heads=8, mlp_ratio=4,
                         norm_input=True),
               lr=5e-4, weight_decay=0.05, batch_size=64, holdout=0.2, patience=20,
               max_epochs=200),
    knn=dict(k=20, temperature=0.07))
