"""Consumer lag: how many messages a consumer group has still to read, per topic.

Measured from the broker (committed offsets against the end of each partition), so it is the same
figure whether a service reports it as a metric or an operator asks `onestop status`.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from opentelemetry.metrics import CallbackOptions, Observation

from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.telemetry import meter

log = logging.getLogger(__name__)

Lags = dict[tuple[str, str], int]  # (group, topic) -> messages not yet read


class BrokerLag:
    """Measures lag again and again over one admin client and one consumer, opened on first use and
    opened afresh after a failure (the broker may restart under a running service)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def measure(self, group_prefix: str = "") -> Lags:
        """The lag of every consumer group whose name starts with `group_prefix`, per topic."""
        try:
            admin, consumer = await self._clients()
            lags: Lags = {}
            for group, *_ in await admin.list_consumer_groups():
                if not group.startswith(group_prefix):
                    continue
                committed = await admin.list_consumer_group_offsets(group)
                if not committed:
                    continue
                ends = await consumer.end_offsets(list(committed))
                for partition, meta in committed.items():
                    key = (group, partition.topic)
                    lags[key] = lags.get(key, 0) + max(ends[partition] - meta.offset, 0)
            return dict(sorted(lags.items()))
        except BaseException:
            await self.stop()
            raise

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **kafka_options())
            self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, **kafka_options())
            await self._admin.start()
            await self._consumer.start()
        return self._admin, self._consumer

    async def stop(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()


async def group_lags(bootstrap: str, group_prefix: str = "") -> Lags:
    """One measurement, for the command line."""
    lag = BrokerLag(bootstrap)
    try:
        return await lag.measure(group_prefix)
    finally:
        await lag.stop()


def by_group(lags: Lags) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (group, _), lag in lags.items():
        totals[group] = totals.get(group, 0) + lag
    return totals


class ConsumerLagGauge:
    """Publishes `onestop.consumer.lag` (per group and topic), refreshed in the background: a metric
    callback must not wait on the broker."""

    def __init__(
        self,
        measure: Callable[[], Awaitable[Lags]],
        every_seconds: float = 10.0,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.measure, self.every_seconds, self.close = measure, every_seconds, close
        self.latest: Lags = {}

    async def run(self, stop: asyncio.Event) -> None:
        _gauges.append(self)
        try:
            while not stop.is_set():
                try:
                    self.latest = await self.measure()
                except Exception as exc:  # the broker may be away for a while; the gauge keeps its last figures
                    log.warning("consumer lag not measured (%s)", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.every_seconds)
        finally:
            _gauges.remove(self)
            if self.close is not None:
                await self.close()

    def observations(self) -> Iterable[Observation]:
        for (group, topic), lag in self.latest.items():
            yield Observation(lag, {"consumer.group": group, "topic": topic})


_gauges: list[ConsumerLagGauge] = []


def _observe(options: CallbackOptions) -> Iterable[Observation]:
    for gauge in _gauges:
        yield from gauge.observations()


meter.create_observable_gauge(
    "onestop.consumer.lag", callbacks=[_observe], unit="{message}", description="Messages a group has still to read"
)
