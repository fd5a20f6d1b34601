"""A consumer whose background fetcher died is noticed, not left returning nothing for ever.

aiokafka's fetcher task can end on an error it does not expect: under uvloop, writing a fetch request to
the connection of a broker that was just killed raises RuntimeError, the task ends, and getmany returns
empty batches from then on without a word. The failure run met it in intake's customer-key follower (every
new customer's key then timed out, so intake took no contact until restarted). Which write loses that race
cannot be arranged from outside, so here the fetcher's task is ended by hand."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from onestop.servicekit.log_reading import raise_if_not_fetching


class _Fetcher:
    def __init__(self, task: "asyncio.Future[None]") -> None:
        self.error_future = task


async def test_a_dead_fetcher_is_raised_and_a_live_one_is_not() -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")  # never started: no broker is asked
    raise_if_not_fetching(consumer)  # not started yet: nothing to say

    running: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    consumer._fetcher = _Fetcher(running)
    raise_if_not_fetching(consumer)

    dead: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    dead.set_exception(KafkaError("Unexpected error during data retrieval"))
    consumer._fetcher = _Fetcher(dead)
    with pytest.raises(KafkaError, match="fetcher stopped") as raised:
        raise_if_not_fetching(consumer)
    assert isinstance(raised.value.__cause__, KafkaError)
    running.cancel()
    consumer._fetcher = None
    await consumer.stop()
