"""The timing and memory primitives every benchmark task uses (qbheat_mm/benchmark/timing.py)."""
import pytest
import torch

from qbheat_mm.benchmark import step_memory_mb, time_interleaved

CPU = torch.device("cpu")


def test_time_interleaved_rotates_the_order_and_reports_medians():
    calls = []
    fns = {name: (lambda n=name: calls.append(n)) for name in 'abc'}
    result = time_interleaved(fns, CPU, rounds=3, warmup=1)
    assert calls[:3] == ['a', 'b', 'c']  # warm-up
    assert calls[3:] == ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']
    for timing in result.values():
        assert len(timing['times_ms']) == 3
        assert timing['median_ms'] == sorted(timing['times_ms'])[1]
    with pytest.raises(ValueError, match='rounds must be >= 1'):
        time_interleaved(fns, CPU, rounds=0)


def test_step_memory_counts_what_a_step_allocates():
    def allocate_64mib():
        x = torch.ones(16 * 2**20)  # 64 MiB, touched
        x.add_(1)

    grown = step_memory_mb(allocate_64mib, CPU)
    assert grown is not None and 56 < grown < 160
    assert step_memory_mb(lambda: None, CPU) < 16
