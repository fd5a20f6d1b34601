"""Gathering concurrent submissions into batches, for group commit.

A batch closes when it is full or when its oldest submission has waited `max_wait` seconds, so a lone
caller waits at most that long, and callers who queued while the last batch was committing go at once.
Two submissions with the same exclusive key (a client's Idempotency-Key) never share a batch: the later one
waits for the next, where it finds the earlier one's answer.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Work = Callable[[Any], Awaitable[Any]]


@dataclass(eq=False)
class Submission:
    """One caller's work, waiting for a batch; `answer` is set once the batch has committed (or failed)."""

    work: Work
    exclusive_key: str | None
    since: float
    ahead: Any = None  # what the work will ask, for its batch to read ahead
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    taken: bool = False


class SubmissionQueue:
    def __init__(self, *, max_wait: float, max_batch: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.clock = clock
        self._waiting: list[Submission] = []
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, work: Work, exclusive_key: str | None = None, ahead: Any = None) -> Submission:
        submission = Submission(work, exclusive_key, self.clock(), ahead)
        self._waiting.append(submission)
        self._arrived.set()
        return submission

    def withdraw(self, submission: Submission) -> bool:
        """Take back a submission no batch has taken yet; False when one already has."""
        if submission.taken or submission not in self._waiting:
            return False
        self._waiting.remove(submission)
        return True

    def drain(self) -> list[Submission]:
        """Everything still waiting, taken out of the queue (when the service stops)."""
        waiting, self._waiting = self._waiting, []
        return waiting

    async def next_batch(self, stop: asyncio.Event) -> list[Submission]:
        """The next batch, in order of arrival; empty only once `stop` is set with nothing waiting."""
        while not self._waiting:
            if stop.is_set():
                return []
            self._arrived.clear()
            await _first_of(self._arrived, stop)
        deadline = self._waiting[0].since + self.max_wait
        while len(self._waiting) < self.max_batch and not stop.is_set():
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(_first_of(self._arrived, stop), timeout=remaining)
            except TimeoutError:
                break
        return self._take()

    def _take(self) -> list[Submission]:
        batch: list[Submission] = []
        keys: set[str] = set()
        left: list[Submission] = []
        for submission in self._waiting:
            key = submission.exclusive_key
            if len(batch) >= self.max_batch or (key is not None and key in keys):
                left.append(submission)
                continue
            if key is not None:
                keys.add(key)
            submission.taken = True
            batch.append(submission)
        self._waiting = left
        return batch


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
