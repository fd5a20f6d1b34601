"""End to end: contacts through all five services, each its own process, on the real broker and database.

Latency is measured from the start of the intake call to (a) the case in the read model, seen as its
CaseRaised on the log (cases commits the projection and the outbox row in one transaction, so the event
is never ahead of the read model), and (b) the acknowledgement sent to the customer (NotificationSent).

First a flood finds the most the system sustains; then contacts arrive at a steady 25%, 50% and 100% of
that rate (open loop: each on its schedule, whether or not earlier ones are answered), and the latencies
at each level are reported. With `instances=2`, intake, routing, cases and notify each run twice in the
same consumer groups, and the report shows how the partitions split between the instances.
"""

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from bench.light_http import HttpError, LightClient
from bench.stats import CpuMeter, Timing, infrastructure_pids, keep_busy, percentile
from onestop.contracts import UndecodableMessage, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseRaised
from onestop.contracts.events.notifications import NotificationSent
from onestop.contracts.identifiers import case_id_for
from onestop.localinfra import mailpit
from onestop.localinfra.paths import state_dir
from onestop.ops.fleet import SERVICES, Fleet, environment, free_port
from onestop.servicekit.auth import mint_token
from onestop.servicekit.log_reading import open_from_beginning
from onestop.servicekit.personal_data import new_kek
from onestop.servicekit.topics_admin import delete_namespace_topics

WATCHED = {CaseRaised.type.encode(), NotificationSent.type.encode()}
SCALED = ("intake", "routing", "cases", "notify")  # analytics reads the whole log into one database: one reader
CONTACT: dict[str, Any] = {
    "channel": "app",
    "needs": [
        {
            "kind": "report_problem",
            "service_code": "584",
            "description": "Graffiti on the underpass",
        }
    ],
}


class Watcher:
    """Notes when each case's CaseRaised and first NotificationSent appear on the log."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self.bootstrap, self.namespace = bootstrap, namespace
        self.raised: dict[str, float] = {}
        self.notified: dict[str, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        names = [
            contract_topics.CASES.qualified(self.namespace),
            contract_topics.NOTIFICATIONS.qualified(self.namespace),
        ]
        consumer, _ = await open_from_beginning(self.bootstrap, names)
        try:
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    now = time.monotonic()
                    for record in records:
                        if dict(record.headers).get("ce_type") not in WATCHED:
                            continue  # decode only what is timed: the load generator shares the cores
                        try:
                            event = decode_record(record.value, record.headers).data
                        except UndecodableMessage:
                            continue
                        if isinstance(event, CaseRaised):
                            self.raised.setdefault(str(event.case_id), now)
                        elif isinstance(event, NotificationSent) and event.case_id is not None:
                            self.notified.setdefault(str(event.case_id), now)
        finally:
            await consumer.stop()


class Load:
    """Submits contacts to the intake instances in turn and remembers when each case was asked for."""

    def __init__(self, fleet: Fleet, watcher: Watcher) -> None:
        self.intakes = [name for name in fleet.ports if name.split("#")[0] == "intake"]
        self.fleet, self.watcher = fleet, watcher
        self.submitted: dict[str, float] = {}
        self.failures = 0
        self.failure_reasons: list[str] = []
        self.retries = 0
        self.count = 0
        authorised = {"Authorization": f"Bearer {mint_token('bench', ['contacts:write'])}"}
        self.clients = {
            name: LightClient("127.0.0.1", fleet.ports[name], authorised, connections=200) for name in self.intakes
        }

    async def submit(self, n: int) -> None:
        self.count += 1
        client = self.clients[self.intakes[self.count % len(self.intakes)]]
        resident = {"name": f"Resident {n}", "email": f"resident{n}@example.org"}
        # Each report a kilometre or more from the others: reports close together are linked as duplicates.
        need = {
            **CONTACT["needs"][0],
            "location": {"latitude": 51.0 + (n % 500) * 0.01, "longitude": -1.5 + (n // 500) * 0.01},
        }
        started = time.monotonic()
        # As a channel front end does: a contact whose answer was lost or was a server error is sent again
        # under the same idempotency key, so it is taken once.
        headers = {"Idempotency-Key": f"bench-{n}"}
        body = {**CONTACT, "needs": [need], "customer": resident}
        for attempt in range(1, 4):
            retryable = True
            try:
                status, answer = await client.post_json("/contacts", body, headers)
            except HttpError as exc:
                reason = str(exc)
            else:
                if status == 201:
                    break
                reason = f"{status}: {answer[:200].decode(errors='replace')}"
                retryable = status >= 500  # a refusal would only be refused again
            if attempt == 3 or not retryable:
                self.failures += 1
                self.failure_reasons.append(reason)
                return
            self.retries += 1
            await asyncio.sleep(0.2 * attempt)
        receipt = json.loads(answer)
        for need in receipt["needs"]:
            # Each bench report is a problem of its own, so each need raises the case its ids derive.
            self.submitted[str(case_id_for(uuid.UUID(receipt["contact_id"]), uuid.UUID(need["need_id"])))] = started

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()

    async def settled(self, case_ids: list[str], within: float) -> None:
        """Wait until every case is raised and notified, or `within` seconds pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not all(c in self.watcher.raised and c in self.watcher.notified for c in case_ids):
                    await asyncio.sleep(0.2)

    def latencies(self, case_ids: list[str]) -> dict[str, Any]:
        raised = [(self.watcher.raised[c] - self.submitted[c]) * 1000 for c in case_ids if c in self.watcher.raised]
        notified = [
            (self.watcher.notified[c] - self.submitted[c]) * 1000 for c in case_ids if c in self.watcher.notified
        ]
        return {
            "contacts": len(case_ids),
            "case_in_read_model_ms": _percentiles(raised),
            "notification_sent_ms": _percentiles(notified),
            "not_raised": len(case_ids) - len(raised),
            "not_notified": len(case_ids) - len(notified),
        }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {f"p{q}": round(percentile(ordered, q), 1) if ordered else None for q in (50, 95, 99)}


async def at_rate(work: Callable[[int], Coroutine[Any, Any, None]], numbers: range, per_second: float) -> None:
    """Open loop: contact i starts at i / rate, however long earlier ones take."""
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    for i, n in enumerate(numbers):
        delay = started + i / per_second - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(work(n)))
    await asyncio.gather(*tasks)


def partition_split(fleet: Fleet) -> dict[str, dict[str, int]]:
    """Per consumer group, how many partitions each instance holds after the last rebalance, as each
    instance's consumer logged it (aiokafka's admin client cannot decode Kafka 4's group descriptions)."""
    split: dict[str, dict[str, int]] = {}
    for instance in fleet.processes:
        for line in (fleet.logs / f"{instance}.log").read_text(errors="replace").splitlines():
            if "assigned to partitions" in line and line.count("|") >= 2:
                group = line.split("|")[1].strip().removeprefix(fleet.namespace)
                split.setdefault(group, {})[instance] = line.count("TopicPartition(")
    return split


async def run(
    bootstrap: str,
    server_url: str,
    *,
    flood: int,
    seconds_per_level: float,
    instances: int = 1,
    sample_ratio: float | None = None,
) -> dict[str, Any]:
    """With `sample_ratio`, the services trace that share of journeys and export the spans over OTLP to the
    local trace viewer (its own process), as `make run` does; without, they use the installation default."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    mail_server = await asyncio.to_thread(mailpit.start)
    tracing: dict[str, str] = {"OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    viewer = None
    if sample_ratio is not None:
        viewer_port = free_port()
        viewer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "onestop.ops.traces", "--port", str(viewer_port), stdout=asyncio.subprocess.DEVNULL
        )
        tracing = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{viewer_port}",
            "OTEL_TRACES_SAMPLE_RATIO": str(sample_ratio),
        }
    env = environment(
        bootstrap,
        server_url,
        namespace,
        PERSONAL_DATA_KEK=new_kek(),  # sealing on: the production path
        **tracing,
        NOTIFY_SMTP_PORT=str(mail_server.smtp_port),
        NOTIFY_ACKNOWLEDGEMENT_GROUPING_SECONDS="0",
        CASES_ESCALATION_INTERVAL_SECONDS="3600",
    )
    fleet = Fleet.prepare(namespace, env, state_dir() / "bench-logs" / namespace.rstrip("."))
    extra = tuple(f"{service}#{i}" for service in SCALED for i in range(2, instances + 1))
    stop = asyncio.Event()
    watcher = Watcher(bootstrap, namespace)
    watching: asyncio.Task[None] | None = None
    try:
        await fleet.start_all((*SERVICES, *extra))
        watching = asyncio.create_task(watcher.run(stop))
        load = Load(fleet, watcher)
        await keep_busy(load.submit, range(20), 4)  # warm up every path once
        await load.settled(list(load.submitted), within=60)

        # The most the system sustains: a flood, timed until the last acknowledgement is sent.
        before = set(load.submitted)
        # Where the CPU goes: each service, the broker, the database and this load generator, per contact.
        cpu = CpuMeter({name: [process.pid] for name, process in fleet.processes.items()} | infrastructure_pids())
        cpu.start()
        started = time.monotonic()
        await keep_busy(load.submit, range(1000, 1000 + flood), 64)
        flooded = [c for c in load.submitted if c not in before]
        await load.settled(flooded, within=120)
        cpu_per_contact = cpu.per(len(flooded))
        finished = max((watcher.notified.get(c, 0.0) for c in flooded), default=started)
        maximum = Timing(count=len([c for c in flooded if c in watcher.notified]), seconds=finished - started)
        levels = {}
        for share in (0.25, 0.5, 1.0):
            rate = max(maximum.per_second * share, 1.0)
            before = set(load.submitted)
            first = 100_000 + int(share * 100) * 10_000
            await at_rate(load.submit, range(first, first + int(rate * seconds_per_level)), rate)
            offered = [c for c in load.submitted if c not in before]
            await load.settled(offered, within=120)
            levels[f"{int(share * 100)}%"] = {"offered_per_second": round(rate, 1), **load.latencies(offered)}
        await load.close()
        return {
            "instances_per_service": instances,
            "trace_sample_ratio": sample_ratio,  # None: the installation default, no exporter
            "maximum_contacts_per_second": round(maximum.per_second, 1),
            "flood": {"contacts": flood, **load.latencies(flooded)},
            "cpu_ms_per_contact": cpu_per_contact,
            "levels": levels,
            "failed_submissions": load.failures,
            "failure_reasons": sorted(set(load.failure_reasons))[:5],
            "retried_submissions": load.retries,
            "partitions_per_instance": partition_split(fleet),
        }
    finally:
        stop.set()
        if watching is not None:
            await asyncio.gather(watching, return_exceptions=True)
        await fleet.stop_all()
        await asyncio.to_thread(mailpit.stop, mail_server)
        if viewer is not None:
            viewer.kill()
            await viewer.wait()
        await fleet.drop_databases(server_url)
        await delete_namespace_topics(bootstrap, namespace)
