"""k-NN top-1 of a frozen backbone: the fastest sanity check of a checkpoint.

    python tools/analysis/knn_eval.py CONFIG (--checkpoint CKPT | --random)
        [--k 20] [--temperature 0.07] [--work-dir DIR] [--cfg-options k=v ...]
        [--allow-pickle] [--launcher ...]

CONFIG is a k-NN config (``model.type='KNNClassifier'``, e.g.
``configs/knn/knn_mobileformer-294m_laptop-objects.py``): the backbone embeds the
labelled bank and the test images (last map, global-average pooled), each test image takes
the weighted vote of its ``k`` most cosine-similar bank images (weights
``exp(cos / temperature)``) and MMPretrain's ``Accuracy`` scores the votes. CKPT (a
pre-training checkpoint or an extracted backbone) loads strictly through the config's
``StrictPretrained`` init; ``--random`` is the random-init control. Written to the work
dir: ``knn_results.json`` (the metrics, the checkpoint, k, T and the seconds taken).
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import time

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (compat patches and registration before the config is read)
from qbheat_mm.engine.cli import add_checkpoint_or_random, add_common_args, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='k-NN config (model.type=KNNClassifier)')
    add_checkpoint_or_random(parser, 'the random-init control: no checkpoint')
    parser.add_argument('--k', type=int, help='neighbours (default: the config\'s)')
    parser.add_argument('--temperature', type=float,
                        help='vote temperature (default: the config\'s)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args, dataloaders=('test_dataloader', ))
    if cfg.model.get('type') != 'KNNClassifier':
        raise ValueError(f'{args.config} is not a k-NN config: its model is '
                         f'{cfg.model.get("type")!r}, not KNNClassifier (see '
                         'configs/knn/knn_mobileformer-294m_laptop-objects.py)')
    if args.checkpoint is not None:
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
        cfg.model.backbone.init_cfg = dict(type='StrictPretrained',
                                           checkpoint=args.checkpoint, prefix='auto')
    else:
        cfg.model.backbone.init_cfg = None
    for key in ('k', 'temperature'):
        if getattr(args, key) is not None:
            cfg.model[key] = getattr(args, key)
    cfg.load_from = None
    start = time.time()
    runner = Runner.from_cfg(cfg)
    # MMEngine's test loop loads load_from but never runs init_weights: apply the
    # backbone's StrictPretrained init (or Mobile-Former's reference init) here.
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    model.init_weights()
    metrics = runner.test()
    result = dict(metrics={k: float(v) for k, v in metrics.items()},
                  checkpoint=args.checkpoint, k=cfg.model.k,
                  temperature=cfg.model.temperature, seconds=time.time() - start)
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'knn_results.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    return result


if __name__ == '__main__':
    main()
