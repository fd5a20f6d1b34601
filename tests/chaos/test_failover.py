"""Fail-over under load: three brokers (replication 3, min.insync.replicas 2) and two instances of every
service, while contacts flow at a steady rate through intake's API. The broker leading the contacts
partitions is killed, then one instance of each service, then intake is restarted instance by instance.
Afterwards nothing is lost, doubled or miscounted, and no caller's contact was refused.

CHAOS_CONTACTS (at least that many contacts), CHAOS_RATE (contacts a second) and CHAOS_ROUNDS (rounds of
failures) size the run; `make chaos` runs a longer one than CI's default."""

import asyncio
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from onestop.contracts import topics as contract_topics
from onestop.contracts.identifiers import case_id_for
from onestop.ops.fleet import SERVICES
from tests.chaos.conftest import ChaosSystem
from tests.support import bearer, eventually

CONTACTS = int(os.environ.get("CHAOS_CONTACTS", "60"))
RATE = float(os.environ.get("CHAOS_RATE", "3"))
SETTLE_WITHIN = float(os.environ.get("CHAOS_SETTLE_SECONDS", "240"))  # for the checks after the flow
ROUNDS = int(os.environ.get("CHAOS_ROUNDS", "1"))  # each: broker, instances, rolling restart
SUBMIT_WITHIN = 90.0  # how long a front end keeps retrying one contact before it reports a failure

pytestmark = [
    pytest.mark.integration,
    pytest.mark.chaos,
    pytest.mark.timeout(300 + 240 * ROUNDS + 3 * CONTACTS / RATE + SETTLE_WITHIN),
]

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read")
ANALYST = bearer("analytics:read")
ACKNOWLEDGEMENT = "We have your request"


def report(n: int) -> dict[str, Any]:
    # Each report a kilometre or more from the others: reports close together are linked as one case.
    return {
        "channel": "app",
        "customer": {"name": f"Resident {n}", "email": f"chaos{n}@example.org"},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti on the underpass",
                "location": {"latitude": 51.0 + (n % 500) * 0.01, "longitude": -1.5 + (n // 500) * 0.01},
            }
        ],
    }


@dataclass
class Outcome:
    started: float
    case_ids: list[str] = field(default_factory=list)
    failure: str | None = None  # why the contact was never taken, after every retry
    attempts: int = 1


@dataclass
class Flow:
    """Contacts at a steady rate, spread over the intake instances in turn. As a front end does, a contact
    whose call failed to connect or got a 5xx is sent again, to the other instance, with its Idempotency-Key."""

    system: ChaosSystem
    rate: float
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.case_ids)

    async def run(self, at_least: int) -> None:
        """Open loop: contact n starts at n / rate whether or not earlier ones are answered; runs until
        stopped and `at_least` contacts have started."""
        async with httpx.AsyncClient(timeout=30) as client:
            started = time.monotonic()
            n = 0
            while not (self._stop.is_set() and n >= at_least):
                delay = started + n / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._tasks.append(asyncio.create_task(self.submit(client, n)))
                n += 1
            await asyncio.gather(*self._tasks)

    def stop(self) -> None:
        self._stop.set()

    async def submit(self, client: httpx.AsyncClient, n: int) -> None:
        outcome = self.outcomes[n] = Outcome(time.monotonic())
        headers = {**DESKTOP, "Idempotency-Key": f"chaos-{n}"}
        intakes = self.system.instances("intake")
        reason = "no answer"
        try:
            async with asyncio.timeout(SUBMIT_WITHIN):
                while True:
                    url = self.system.url(intakes[(n + outcome.attempts) % len(intakes)])
                    try:
                        answer = await client.post(f"{url}/contacts", json=report(n), headers=headers)
                    except httpx.TransportError as exc:
                        reason = f"{type(exc).__name__}: {exc}"
                    else:
                        if answer.status_code == 201:
                            receipt = answer.json()
                            contact_id = uuid.UUID(receipt["contact_id"])
                            outcome.case_ids = [
                                str(case_id_for(contact_id, uuid.UUID(need["need_id"]))) for need in receipt["needs"]
                            ]
                            return
                        reason = f"{answer.status_code}: {answer.text[:200]}"
                        if answer.status_code < 500:
                            outcome.failure = reason  # a refusal would only be refused again
                            return
                    outcome.attempts += 1
                    await asyncio.sleep(min(0.25 * outcome.attempts, 2.0))
        except TimeoutError:
            outcome.failure = f"not taken within {SUBMIT_WITHIN:.0f}s, last: {reason}"

    async def progressed(self, contacts: int, within: float = 120) -> None:
        """Wait until `contacts` more contacts are taken: the system is moving again."""
        target = self.accepted + contacts

        async def reached() -> bool:
            return self.accepted >= target

        await eventually(reached, within=within, every=0.2)


async def contacts_leader(system: ChaosSystem) -> tuple[int, dict[int, int]]:
    """The node that leads most of the contacts partitions, and how many each node leads."""
    admin = AIOKafkaAdminClient(bootstrap_servers=system.cluster.bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([contract_topics.CONTACTS.qualified(system.namespace)])
    finally:
        await admin.close()
    leaders = Counter(int(p["leader"]) for p in described["partitions"])
    return leaders.most_common(1)[0][0], dict(leaders)


async def replication_of(system: ChaosSystem, topic: str) -> tuple[set[int], str]:
    """The replica counts of the topic's partitions, and its effective min.insync.replicas."""
    admin = AIOKafkaAdminClient(bootstrap_servers=system.cluster.bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    entries = {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    return {len(p["replicas"]) for p in described["partitions"]}, entries["min.insync.replicas"]


async def all_cases(cases: httpx.AsyncClient) -> list[str]:
    """Every case id in the cases service's read model, page by page."""
    found: list[str] = []
    for offset in range(0, 1_000_000, 500):
        page = (await cases.get("/cases", params={"limit": 500, "offset": offset}, headers=STAFF)).json()
        found += [item["case_id"] for item in page["items"]]
        if offset + 500 >= page["total"]:
            return found
    raise AssertionError("more cases than any run makes")


@dataclass
class Round:
    """What one round of failures did, and how long each step took the system to get over."""

    leaderships: dict[int, int]  # contacts partitions led, by node, before the kill
    killed_node: int
    killed_instances: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    rolling_from: float = 0.0
    rolling_to: float = 0.0
    retries_during_rolling: int = 0

    def __str__(self) -> str:
        steps = ", ".join(f"{step} {seconds}s" for step, seconds in self.seconds.items())
        return (
            f"node {self.killed_node} killed (contacts partitions led by node: {self.leaderships}); "
            f"{', '.join(self.killed_instances)} killed; {steps}; "
            f"{self.retries_during_rolling} retries during the rolling restart"
        )


async def round_of_failures(system: ChaosSystem, flow: Flow, victim: str) -> Round:
    """Kill the broker leading the contacts partitions, then one instance (`victim`: "" or "#2") of each
    service while the broker starts again, then restart intake instance by instance; the flow goes on."""
    clock = time.monotonic()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.monotonic()
        done.seconds[step] = round(now - clock, 1)
        clock = now

    # 1. kill -9 the broker leading the contacts partitions; the others take over its leaderships.
    leader, leaderships = await contacts_leader(system)
    done = Round(leaderships, leader, [f"{service}{victim}" for service in SERVICES])
    system.cluster.kill(system.cluster.node(leader))

    async def led_by_others() -> bool:
        try:
            return leader not in (await contacts_leader(system))[1]
        except KafkaError:  # the client asked the dead node first; ask again
            return False

    await eventually(led_by_others, within=60, every=0.5)
    await flow.progressed(5)
    lap("broker killed, contacts flowing again")

    # 2. kill -9 one instance of each service; the other instance takes its partitions (or its callers).
    for instance in done.killed_instances:
        await system.kill(instance)
    # Meanwhile the killed broker comes back (a JVM takes a while to start) and catches up.
    broker_back = asyncio.create_task(asyncio.to_thread(system.cluster.start))
    await flow.progressed(5)
    for instance in done.killed_instances:  # as a supervisor would, start them again
        await system.start(instance)
    for instance in done.killed_instances:
        await system.healthy(instance)
    lap("instances killed and back")

    # 3. a rolling restart of intake: stop one, start it, wait until it is ready, then the other.
    retries_before = sum(o.attempts - 1 for o in flow.outcomes.values())
    done.rolling_from = time.monotonic()
    for instance in system.instances("intake"):
        await system.stop(instance)
        await system.start(instance)
        await system.healthy(instance)
    done.rolling_to = time.monotonic()
    done.retries_during_rolling = sum(o.attempts - 1 for o in flow.outcomes.values()) - retries_before
    lap("rolling restart of intake")

    await broker_back
    await flow.progressed(5)
    lap("broker back")
    return done


async def test_no_contact_lost_or_doubled_through_broker_and_service_failures(chaos_system: ChaosSystem) -> None:
    system = chaos_system
    contacts_topic = contract_topics.CONTACTS.qualified(system.namespace)
    assert await replication_of(system, contacts_topic) == ({3}, "2"), "replication 3, min.insync.replicas 2"

    flow = Flow(system, RATE)
    flowing = asyncio.create_task(flow.run(CONTACTS))
    rounds: list[Round] = []
    try:
        await flow.progressed(5)
        for number in range(ROUNDS):
            rounds.append(await round_of_failures(system, flow, victim=("", "#2")[(number + 1) % 2]))
    finally:
        flow.stop()
        await flowing

    failed = {n: o.failure for n, o in flow.outcomes.items() if o.failure}
    during_rolling = {
        n: f
        for n, f in failed.items()
        if any(r.rolling_from <= flow.outcomes[n].started <= r.rolling_to for r in rounds)
    }
    assert not during_rolling, f"intake requests failed during the rolling restart, after retries: {during_rolling}"
    assert not failed, f"intake requests failed, after retries: {failed}"
    expected_cases = {case for o in flow.outcomes.values() for case in o.case_ids}
    emails = {f"chaos{n}@example.org" for n in flow.outcomes}
    assert len(expected_cases) == len(flow.outcomes) >= CONTACTS
    print(f"\n{len(flow.outcomes)} contacts at {RATE}/s, {sum(o.attempts - 1 for o in flow.outcomes.values())} retries")
    for r in rounds:  # the run's shape, for whoever reads the log of a failure run
        print(f"  {r}")

    async with (
        httpx.AsyncClient(base_url=system.url("cases"), timeout=30) as cases,
        httpx.AsyncClient(base_url=system.url("analytics"), timeout=30) as analytics,
    ):

        async def every_case_raised() -> list[str] | None:
            found = await all_cases(cases)
            return found if set(found) >= expected_cases else None

        try:
            await eventually(every_case_raised, within=SETTLE_WITHIN, every=1)
        except TimeoutError:
            missing = expected_cases - set(await all_cases(cases))
            raise AssertionError(f"{len(missing)} accepted contacts have no case, e.g. {sorted(missing)[:5]}") from None

        async def everyone_acknowledged() -> bool:
            sent = await system.mail.messages()
            return {to for m in sent if ACKNOWLEDGEMENT in m.subject for to in m.to} >= emails

        await eventually(everyone_acknowledged, within=SETTLE_WITHIN, every=1)

        async def analytics_counted() -> dict[str, Any] | None:
            figures: dict[str, Any] = (await analytics.get("/measures/channel_mix", headers=ANALYST)).json()
            return figures if figures["contacts"] >= len(flow.outcomes) else None

        await eventually(analytics_counted, within=SETTLE_WITHIN, every=1)

        # Whatever was going to be repeated after a kill has had time to be: a notify claim lease (5 s)
        # running out, a consumer re-reading from its last committed offset.
        await asyncio.sleep(10)
        found = await all_cases(cases)
        figures = (await analytics.get("/measures/channel_mix", headers=ANALYST)).json()
    mail = [m for m in await system.mail.messages() if ACKNOWLEDGEMENT in m.subject]

    doubled = [case for case, count in Counter(found).items() if count > 1]
    assert not doubled, f"cases listed twice: {doubled[:5]}"
    assert set(found) == expected_cases, f"cases no contact asked for: {sorted(set(found) - expected_cases)[:5]}"

    # What reached the mail server: one acknowledgement per contact. A send repeated after a kill carries the
    # same Message-ID, so the resident's mail system shows it once; two Message-IDs would be two messages.
    message_ids: dict[str, set[str]] = {}
    for m in mail:
        for to in m.to:
            message_ids.setdefault(to, set()).add(m.message_id)
    assert set(message_ids) == emails
    doubled_mail = {to: ids for to, ids in message_ids.items() if len(ids) > 1}
    assert not doubled_mail, f"residents with more than one acknowledgement: {list(doubled_mail.items())[:5]}"

    assert figures["contacts"] == len(flow.outcomes), f"analytics counted {figures['contacts']} contacts"
    assert figures["by_channel"] == {"app": len(flow.outcomes)}
