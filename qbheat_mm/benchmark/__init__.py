"""Benchmarks: what a QB-Heat step costs against its peers, its parts, its speed options,
its data loader, and the same on a GPU. One timing method (interleaved rounds, medians,
paired ratios), one memory measure; ``tools/benchmark.py --task`` writes the results with
:func:`qbheat_mm.utils.results.write_results`."""
from .steps import AMP_DTYPES, OPTIMIZER_IMPLS, PEERS, Peer, build_peer, peer_step, \
    qbheat_part_fns, state_mb
from .tasks import (TASKS, BaseBenchmark, DataloaderBenchmark, GPUBenchmark, OptionsBenchmark,
                    PartsBenchmark, StepBenchmark)
from .timing import paired_ratio, step_memory_mb, time_interleaved

__all__ = ['AMP_DTYPES', 'BaseBenchmark', 'DataloaderBenchmark', 'GPUBenchmark',
           'OPTIMIZER_IMPLS', 'OptionsBenchmark', 'PEERS', 'PartsBenchmark', 'Peer',
           'StepBenchmark', 'TASKS', 'build_peer', 'paired_ratio', 'peer_step',
           'qbheat_part_fns', 'state_mb', 'step_memory_mb', 'time_interleaved']
