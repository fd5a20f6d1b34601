"""The five services as separate processes: one connected trace per contact, and nothing lost, doubled
or miscounted when services are killed mid-flow and poison messages arrive."""

import asyncio
import random
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import topics as contract_topics
from tests.e2e.conftest import System
from tests.support import bearer, eventually, read_events

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read")
ANALYST = bearer("analytics:read")


def fly_tip(n: int, email: str) -> dict[str, Any]:
    return {
        "channel": "app",
        "customer": {"name": f"Reporter {n}", "email": email},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti on the wall",
                "location": {"latitude": 52.2 + n * 0.01, "longitude": -0.9},
            }
        ],
    }


async def test_one_contact_makes_one_trace_across_all_five_services(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.url("intake")) as intake:
        response = await intake.post("/contacts", json=fly_tip(0, "tracer@example.org"), headers=DESKTOP)
    assert response.status_code == 201

    everyone = {"onestop-intake", "onestop-routing", "onestop-cases", "onestop-notify", "onestop-analytics"}

    async def one_connected_trace() -> list[Any] | None:
        """A trace with spans of all five services, every one of them hanging off a single root."""
        for spans in list(system.spans.traces.values()):
            ids = {span.span_id for span in spans}
            roots = [span for span in spans if span.parent_span_id not in ids]
            if everyone <= {span.service for span in spans} and len(roots) == 1:
                return roots
        return None

    try:
        [root] = await eventually(one_connected_trace, within=120)
    except TimeoutError:
        seen = [
            (
                sorted({span.service for span in spans}),
                sum(span.parent_span_id not in {s.span_id for s in spans} for span in spans),
            )
            for spans in list(system.spans.traces.values())
        ]
        raise AssertionError(f"no connected trace of all five services; traces as (services, roots): {seen}") from None
    assert root.service == "onestop-intake"
    assert root.name.startswith("POST /contacts")

    # Metrics reach the local viewer too: event rates, processing time and every consumer's lag.
    async def metrics_of_every_service() -> bool:
        published = {p.service for p in system.metrics.named("onestop.events.published") if p.value >= 1}
        processed = {p.service for p in system.metrics.named("onestop.event.processing.duration") if p.value >= 1}
        lagging = {p.service for p in system.metrics.named("onestop.consumer.lag")}
        return (
            "onestop-intake" in published
            and "onestop-routing" in processed
            and lagging >= everyone - {"onestop-intake"}
        )

    await eventually(metrics_of_every_service, within=60)

    # Personal data is sealed on the log (this system runs with a key-encryption key).
    [contact] = await read_events(
        system.env["KAFKA_BOOTSTRAP_SERVERS"], contract_topics.CONTACTS.qualified(system.namespace), 1
    )
    assert contact.data.customer.email is None and contact.data.customer.sealed  # type: ignore[attr-defined]


async def test_no_contact_lost_or_doubled_when_services_are_killed_and_poison_arrives(system: System) -> None:
    bootstrap, ns = system.env["KAFKA_BOOTSTRAP_SERVERS"], system.namespace
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        good_headers = [
            ("ce_id", b"x"),
            ("ce_source", b"/t"),
            ("ce_type", b"onestop.contact.received"),
            ("ce_specversion", b"1.0"),
            ("ce_dataschema", b"urn:onestop:schema:onestop.contact.received:1"),
            ("ce_correlationid", b"6f1c2a8e-3f47-4d5b-9a0e-2c7d7b1e9a10"),
        ]
        unknown = [(k, b"onestop.made.up" if k == "ce_type" else v) for k, v in good_headers]
        for value, headers in ((b"{broken", good_headers), (b"{}", unknown), (b'{"contact_id": 7}', good_headers)):
            await producer.send_and_wait(
                contract_topics.CONTACTS.qualified(ns), value=value, key=b"poison", headers=headers
            )
    finally:
        await producer.stop()

    rng = random.Random(9)
    submitted = 0
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        for n in range(30):
            if n in (8, 18):  # kill -9 a consuming service mid-flow, then bring it back
                victim = rng.choice(["routing", "cases", "notify", "analytics"])
                await system.kill(victim)
                await system.start(victim)
            response = await intake.post("/contacts", json=fly_tip(n + 1, f"resident{n}@example.org"), headers=DESKTOP)
            assert response.status_code == 201, response.text
            submitted += 1
    for service in ("routing", "cases", "notify", "analytics"):
        await system.healthy(service)

    async with httpx.AsyncClient(base_url=system.url("cases")) as cases:

        async def all_raised() -> int | None:
            total = (await cases.get("/cases?limit=1", headers=STAFF)).json()["total"]
            return total if total >= submitted else None

        assert await eventually(all_raised, within=180) == submitted, "one case per contact, none lost, none doubled"

    # What reached the mail server, not what the log says: every resident got their acknowledgement, and a
    # message sent again after a kill carries the same Message-ID, so the repeat is recognisable.
    await eventually(lambda: _everyone_acknowledged(system, submitted), within=180)
    acknowledgements = await _acknowledgements(system)
    assert len({message_id for _, message_id in acknowledgements}) == submitted, "one notification per contact"

    async with httpx.AsyncClient(base_url=system.url("analytics")) as analytics:

        async def counted() -> int | None:
            figures = (await analytics.get("/measures/channel_mix", headers=ANALYST)).json()
            return figures["contacts"] if figures["contacts"] >= submitted else None

        assert await eventually(counted, within=120) == submitted, "analytics totals equal the ground truth"

    for group in ("routing", "cases", "notify"):
        dead = await read_events_raw(bootstrap, contract_topics.dead_letter_topic(group).qualified(ns), 3)
        reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
        assert any("not JSON" in r for r in reasons) and any("unknown event type" in r for r in reasons)


async def _acknowledgements(system: System) -> list[tuple[str, str]]:
    """(recipient, Message-ID) of every acknowledgement the mail server received, repeats and all."""
    return [
        (", ".join(m.to), m.message_id) for m in await system.mail.messages() if "We have your request" in m.subject
    ]


async def _everyone_acknowledged(system: System, expected: int) -> bool:
    return len({recipient for recipient, _ in await _acknowledgements(system)}) >= expected


async def test_notify_killed_while_sending_loses_no_message(system: System) -> None:
    contacts = 150

    async def sent_to_senders() -> list[tuple[str, str]]:
        return [(to, mid) for to, mid in await _acknowledgements(system) if to.startswith("sender")]

    # Rounds are seconds apart: an idle connection is dropped well before the server's keep-alive ends, so
    # a request never races the server closing it.
    quick_to_drop = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=60, limits=quick_to_drop) as intake:

        async def submit(n: int) -> None:
            response = await intake.post("/contacts", json=fly_tip(1000 + n, f"sender{n}@example.org"), headers=DESKTOP)
            assert response.status_code == 201, response.text

        for first in range(0, contacts, 50):
            arrived = len(await sent_to_senders())
            await asyncio.gather(*(submit(n) for n in range(first, first + 50)))

            async def sending_again(arrived: int = arrived) -> bool:
                return len(await sent_to_senders()) > arrived

            # kill -9 while this round's acknowledgements are being sent, then bring it back
            await eventually(sending_again, within=120, every=0.01)
            await system.kill("notify")
            await system.start("notify")
    await system.healthy("notify")

    async def all_arrived() -> bool:
        return len({to for to, _ in await sent_to_senders()}) == contacts

    await eventually(all_arrived, within=240)
    assert len({mid for _, mid in await sent_to_senders()}) == contacts, (
        "a repeat carries the first attempt's Message-ID"
    )


async def read_events_raw(bootstrap: str, topic: str, count: int) -> list[Any]:
    from tests.support import read_records

    return await read_records(bootstrap, topic, count, within=60)
