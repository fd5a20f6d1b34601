"""Percentiles, rates and memory, measured the same way for every figure."""

import asyncio
import os
import resource
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


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


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (Linux /proc), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def infrastructure_pids() -> dict[str, list[int]]:
    """The local Kafka broker's and PostgreSQL's processes, found by their command lines."""
    found: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "kafka.Kafka" in command:
            found.setdefault("kafka", []).append(int(entry.name))
        elif "postgres" in command.split("\x00")[0]:
            found.setdefault("postgresql", []).append(int(entry.name))
    return found


class CpuMeter:
    """CPU used by each named process (or group of processes) between `start()` and `per(count)`."""

    def __init__(self, processes: dict[str, list[int]]) -> None:
        self.processes = processes
        self._before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        used = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.processes.items()}
        used["load generator"] = time.process_time()
        return used

    def start(self) -> None:
        self._before = self._now()

    def per(self, count: int) -> dict[str, float]:
        """Milliseconds of CPU per item, by process, and their total."""
        after = self._now()
        used = {name: round((after[name] - self._before[name]) * 1000 / max(count, 1), 2) for name in after}
        used["total"] = round(sum(used.values()), 2)
        return used
