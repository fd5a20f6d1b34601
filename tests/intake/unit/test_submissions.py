"""Gathering concurrent submissions into batches: full batches go at once, a lone caller waits at most
`max_wait`, and two uses of one Idempotency-Key never share a batch."""

import asyncio
from typing import Any

from onestop.intake.submissions import SubmissionQueue


async def nothing(uow: Any) -> None:
    return None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_submissions_waiting_together_go_in_one_batch_in_arrival_order() -> None:
    queue = SubmissionQueue(max_wait=0, max_batch=10)
    first, second, third = (queue.put(nothing) for _ in range(3))

    assert await queue.next_batch(asyncio.Event()) == [first, second, third]
    assert len(queue) == 0


async def test_a_full_batch_goes_without_waiting_for_its_deadline() -> None:
    queue = SubmissionQueue(max_wait=3600, max_batch=2)
    first, second, third = (queue.put(nothing) for _ in range(3))

    async with asyncio.timeout(5):  # a guard: it would otherwise wait an hour
        assert await queue.next_batch(asyncio.Event()) == [first, second]
    assert len(queue) == 1 and not third.taken


async def test_a_batch_gathers_what_arrives_before_its_deadline() -> None:
    queue = SubmissionQueue(max_wait=3600, max_batch=2)
    first = queue.put(nothing)
    batch = asyncio.create_task(queue.next_batch(asyncio.Event()))
    await asyncio.sleep(0)  # let it start gathering
    assert not batch.done()

    second = queue.put(nothing)

    async with asyncio.timeout(5):
        assert await batch == [first, second]


async def test_a_lone_submission_goes_once_its_wait_is_over() -> None:
    queue = SubmissionQueue(max_wait=0.001, max_batch=100)
    lone = queue.put(nothing)

    async with asyncio.timeout(5):
        assert await queue.next_batch(asyncio.Event()) == [lone]


async def test_submissions_that_queued_during_the_last_commit_do_not_wait_again() -> None:
    clock = Clock()
    queue = SubmissionQueue(max_wait=3600, max_batch=100, clock=clock)
    early = queue.put(nothing)
    clock.now += 3600  # the previous batch took that long to commit

    async with asyncio.timeout(5):
        assert await queue.next_batch(asyncio.Event()) == [early]


async def test_two_uses_of_one_idempotency_key_never_share_a_batch() -> None:
    queue = SubmissionQueue(max_wait=0, max_batch=10)
    first = queue.put(nothing, exclusive_key="desk-17:call-42")
    other = queue.put(nothing, exclusive_key="desk-17:call-43")
    retry = queue.put(nothing, exclusive_key="desk-17:call-42")
    keyless = queue.put(nothing)

    assert await queue.next_batch(asyncio.Event()) == [first, other, keyless]
    assert await queue.next_batch(asyncio.Event()) == [retry]


async def test_a_withdrawn_submission_is_not_taken_but_a_taken_one_cannot_be_withdrawn() -> None:
    queue = SubmissionQueue(max_wait=0, max_batch=10)
    gone, kept = queue.put(nothing), queue.put(nothing)

    assert queue.withdraw(gone)
    assert await queue.next_batch(asyncio.Event()) == [kept]
    assert not queue.withdraw(kept)


async def test_stopping_with_nothing_waiting_ends_the_wait_with_an_empty_batch() -> None:
    queue = SubmissionQueue(max_wait=0, max_batch=10)
    stop = asyncio.Event()
    batch = asyncio.create_task(queue.next_batch(stop))
    await asyncio.sleep(0)

    stop.set()

    async with asyncio.timeout(5):
        assert await batch == []
