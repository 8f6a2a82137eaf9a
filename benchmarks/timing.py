"""Timing helpers shared by the benchmarks: medians of repeated runs, never single shots."""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable


@dataclass
class Latency:
    """Wall-clock latency of one forward pass, in milliseconds, over `runs` timed runs."""
    median_ms: float
    min_ms: float
    max_ms: float
    runs: int

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.median_ms:.2f} ms (min {self.min_ms:.2f}, max {self.max_ms:.2f}, n={self.runs})"


def measure(fn: Callable[[], object], runs: int, warmup: int) -> Latency:
    """Calls fn `warmup` times untimed, then `runs` times timed; returns the distribution."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return Latency(statistics.median(times), min(times), max(times), runs)


def measure_interleaved(fns: dict[str, Callable[[], object]], runs: int, warmup: int) -> dict[str, Latency]:
    """Times several contenders round-robin, so that the noise of a shared machine
    (another tenant, frequency changes) hits them all alike and their ratios stay fair."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: Latency(statistics.median(t), min(t), max(t), runs) for name, t in times.items()}
