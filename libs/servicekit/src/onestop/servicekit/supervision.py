"""Background work that must not die in silence: restarted when it fails, and reported by /health.

A service's consumers, outbox relay, key follower and clocks each run under a `Supervised`. When one
raises (or returns while the service is still running), the failure is logged, `/health` reports it,
and the work is started again after a back-off; once it has run cleanly for a while, health recovers.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Work = Callable[[asyncio.Event], Coroutine[Any, Any, Any]]


class Supervised:
    """Runs `work(stop)` until `stop` is set, restarting it whenever it ends early."""

    def __init__(self, name: str, work: Work, *, recovered_after: float = 5.0, max_backoff: float = 10.0) -> None:
        self.name = name
        self.work = work
        self.recovered_after = recovered_after
        self.max_backoff = max_backoff
        self.restarts = 0
        self.last_failure: str | None = None
        self._failed_at: float | None = None
        self._running_since: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, stop: asyncio.Event) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(stop), name=f"supervised:{self.name}")
        return self._task

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._running_since = time.monotonic()
            try:
                await self.work(stop)
                if stop.is_set():
                    return
                self._failed("it stopped on its own")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(f"{type(exc).__name__}: {exc}")
                log.exception("%s failed; restarting it", self.name)
            self._running_since = None
            self.restarts += 1
            delay = min(0.2 * 2 ** min(self.restarts, 6), self.max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    def _failed(self, reason: str) -> None:
        self.last_failure = reason
        self._failed_at = time.monotonic()

    def problem(self) -> str | None:
        """Why this work is not healthy now, or None when it is running and has been for a while."""
        if self._running_since is None or (self._task is not None and self._task.done()):
            return f"not running (last failure: {self.last_failure})"
        if self._failed_at is not None and time.monotonic() - self._running_since < self.recovered_after:
            return f"restarted after: {self.last_failure}"
        return None

    async def check(self) -> None:
        """A health check: raises while the work is down or has only just been restarted."""
        if (problem := self.problem()) is not None:
            raise RuntimeError(f"{self.name} {problem}")
