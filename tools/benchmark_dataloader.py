"""Can a config's training pipeline feed the model at the measured step rate?

    python tools/benchmark_dataloader.py CONFIG [--batches 20] [--num-workers N]
                                         [--batch-size N] [--step-json COMPARE.json |
                                          --step-images-per-s R] [--json OUT.json]

Builds ``train_dataloader`` exactly as MMEngine's Runner does (its workers, batch size,
sampler and pipeline, from the config and ``--cfg-options``), skips the first batch (worker
start-up) and times the next ``--batches``, each followed by the model's data
preprocessor (uint8 to normalised float, as ``train_step`` does). It prints images/s and,
given the step rate (``--step-images-per-s``, or QB-Heat's row of a
``tools/benchmark.py --compare --json`` file), whether the loader keeps up. The loader
runs here without a model stepping next to it: on a machine with few cores the workers
and the training step share them, so a loader only a little faster than the step will
not keep up in training.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import qbheat_mm  # noqa: F401  (registration)
from mmpretrain.registry import MODELS
from qbheat_mm.utils.cli import read_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batches', type=int, default=20, help='timed batches')
    parser.add_argument('--num-workers', type=int, help='override the config\'s workers')
    parser.add_argument('--batch-size', type=int, help='override the config\'s batch size')
    step = parser.add_mutually_exclusive_group()
    step.add_argument('--step-images-per-s', type=float,
                      help='the training step rate to compare with')
    step.add_argument('--step-json', help='a tools/benchmark.py --compare --json file: its '
                      'QB-Heat images/s is the step rate')
    parser.add_argument('--json', help='also write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def benchmark_loader(cfg, batches: int) -> dict:
    """Seconds per batch of ``cfg.train_dataloader`` (plus the model's preprocessor)."""
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    it = iter(loader)
    start = time.perf_counter()
    data = next(it)  # worker start-up and the first batch: not timed
    first_s = time.perf_counter() - start
    times, images = [], 0
    for _ in range(batches):
        start = time.perf_counter()
        data = next(it)
        inputs = preprocessor(data, training=True)['inputs']
        times.append(time.perf_counter() - start)
        images += (inputs[0] if isinstance(inputs, list) else inputs).shape[0]
    batch_size = images // batches
    median = statistics.median(times)
    return dict(batch_size=batch_size, num_workers=cfg.train_dataloader.get('num_workers', 0),
                batches=batches, first_batch_s=first_s, median_batch_s=median,
                mean_batch_s=sum(times) / batches, images_per_s=images / sum(times),
                median_images_per_s=batch_size / median)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    cfg = read_config(args.config, args.cfg_options)
    if args.num_workers is not None:
        cfg.train_dataloader.num_workers = args.num_workers
        if args.num_workers == 0:
            cfg.train_dataloader.persistent_workers = False
    if args.batch_size is not None:
        cfg.train_dataloader.batch_size = args.batch_size
    result = benchmark_loader(cfg, args.batches)
    step_rate = args.step_images_per_s
    if args.step_json:
        with open(args.step_json) as f:
            step_rate = json.load(f)['rows']['qbheat']['images_per_s']
    result.update(config=args.config, torch_threads=torch.get_num_threads(),
                  step_images_per_s=step_rate,
                  keeps_up=None if step_rate is None else result['images_per_s'] >= step_rate)
    print(f'{args.config} | batch {result["batch_size"]} | {result["num_workers"]} workers | '
          f'{args.batches} batches after the first ({result["first_batch_s"]:.2f} s)')
    print(f'  loader + preprocessor : {result["images_per_s"]:.1f} images/s '
          f'({1e3 * result["mean_batch_s"]:.0f} ms per batch, median '
          f'{1e3 * result["median_batch_s"]:.0f})')
    if step_rate is not None:
        verdict = 'keeps up with' if result['keeps_up'] else 'is slower than'
        print(f'  training step         : {step_rate:.1f} images/s: the loader {verdict} '
              f'the step ({result["images_per_s"] / step_rate:.2f}x)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
