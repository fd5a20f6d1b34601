"""Percentiles, rates and memory, measured the same way for every figure."""

import asyncio
import resource
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of `samples`."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def keep_busy(work: Callable[[int], Awaitable[None]], numbers: Iterable[int], concurrency: int) -> None:
    """`concurrency` callers, each starting its next request as soon as its last is answered."""
    pending = iter(numbers)

    async def caller() -> None:
        for n in pending:
            await work(n)

    await asyncio.gather(*(caller() for _ in range(concurrency)))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Timing:
    count: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 3),
            "p95_ms": round(percentile(self.latencies_ms, 95), 3),
            "p99_ms": round(percentile(self.latencies_ms, 99), 3),
        }


@contextmanager
def stopwatch(timing: Timing) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timing.seconds += time.perf_counter() - started
