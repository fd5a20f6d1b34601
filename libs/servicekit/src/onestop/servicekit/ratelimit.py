"""Rate limits for public endpoints (tracking, Open311 reads, survey answers): a token bucket per client.

Limits are per process, which is what a single instance behind a council's gateway needs; a gateway in
front of several instances should also limit.
"""

import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, status


class TokenBuckets:
    """`rate` requests per second on average, bursts up to `burst`, remembered for `max_clients` clients."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def rate_limit(per_minute: int, burst: int | None = None) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A FastAPI dependency: 429 with Retry-After once a client exceeds `per_minute`."""
    buckets = TokenBuckets(per_minute / 60, burst or max(1, per_minute // 6))

    async def dependency(request: Request) -> None:
        # Per app as well as per caller, so two apps in one process (tests) keep separate counts.
        client = f"{id(request.app)}:{request.client.host if request.client else 'unknown'}"
        wait = buckets.take(client)
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many requests; try again in {wait:.0f} seconds",
                headers={"Retry-After": str(max(1, round(wait)))},
            )

    return dependency
