"""Notify's writes held back and sent together, on the real database: a batch costs a few round trips
whatever its size (one more per notification queued), and what it holds back is read as written."""

import copy
import dataclasses
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import Channel, ContactMethod, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.notify.domain.model import FollowedCase, Reporter, WardSubscriber
from onestop.servicekit.event_consumer import EventConsumer
from tests.notify.conftest import RunningNotify
from tests.notify.integration.test_notify_flow import NOW, handed_off, raised, resident
from tests.support import CountingConnection

pytestmark = pytest.mark.integration

QUEUE_NOTIFICATION = "INSERT INTO notifications"


class CountingPool:
    """Hands out the pool's connections, counting what is sent through them."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.statements: list[str] = []

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[CountingConnection]:
        async with self.pool.acquire() as connection:
            yield CountingConnection(connection, self.statements)


def notify_consumer(notify: RunningNotify, pool: Any) -> EventConsumer[Any]:
    """Notify's own consumer (its handlers, read-ahead and flush as wired), on `pool`."""
    [consumer] = notify.app.state.runtime.consumers
    twin = copy.copy(consumer)
    twin.pool = pool
    return twin  # type: ignore[no-any-return]


def as_records(notify: RunningNotify, events: Iterable[Event]) -> list[Any]:
    """The events as the broker would hand them over (never published: only this test handles them)."""
    records = []
    for offset, event in enumerate(events):
        encoded = encode_envelope(EventEnvelope.wrap(event, source="/onestop/test"))
        topic = event.topic.qualified(notify.settings.topic_namespace)
        records.append(
            SimpleNamespace(
                topic=topic, partition=0, offset=offset, key=encoded.key, value=encoded.value, headers=encoded.headers
            )
        )
    return records


def contact_received(contact_id: UUID, councillor: str | None = None) -> ContactReceived:
    return ContactReceived(
        contact_id=contact_id,
        channel=Channel.TELEPHONE,
        received_at=NOW,
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587"),),
        on_behalf_of_councillor=councillor,
    )


def a_flood(contacts: int) -> list[Event]:
    """Each contact received, its case raised for a customer in a ward, and handed off."""
    events: list[Event] = []
    for _ in range(contacts):
        contact_id = uuid4()
        case = raised(resident(f"{contact_id}@example.org"), contact_id, ward="Castle")
        events += [contact_received(contact_id), case, handed_off(case)]
    return events


def a_case(contact_id: UUID) -> FollowedCase:
    return FollowedCase(
        case_id=uuid4(),
        contact_id=contact_id,
        reference="OS-EEEE-FFFF",
        service_code="587",
        service_area="street_cleaning",
        customer_id=uuid4(),
        customer={"name": "A Resident", "email": "resident@example.org", "language": "en"},
        ward="Castle",
    )


async def test_a_batch_acknowledges_a_contact_once_and_keeps_what_it_learned(start_notify: Any) -> None:
    notify: RunningNotify = await start_notify(run_sender=False)
    pool = notify.app.state.runtime.pool
    contact_id = uuid4()
    jo = resident()
    first, second = raised(jo, contact_id, ward="Castle"), raised(jo, contact_id, ward="Castle")
    first_again = first.model_copy(update={"service_area": "waste"})  # a raise again keeps the first
    events = [contact_received(contact_id, "cllr@example.org"), first, second, first_again, handed_off(first)]

    await notify_consumer(notify, pool).handle_batch(as_records(notify, events))

    queued = await pool.fetch("SELECT template, recipient_id FROM notifications")
    assert [(row["template"], row["recipient_id"]) for row in queued] == [("acknowledgement", str(jo.customer_id))]
    cases = await pool.fetch("SELECT case_id, service_area, sla_due_at FROM cases ORDER BY case_id")
    assert {row["case_id"]: row["service_area"] for row in cases} == {
        first.case_id: "street_cleaning",
        second.case_id: "street_cleaning",
    }
    sla = {row["case_id"]: row["sla_due_at"] for row in cases}
    assert sla == {first.case_id: handed_off(first).sla_due_at, second.case_id: None}
    contact = await pool.fetchrow("SELECT needs, councillor FROM contacts WHERE contact_id = $1", contact_id)
    assert (contact["needs"], contact["councillor"]) == (1, "cllr@example.org")


async def test_a_batch_costs_the_same_round_trips_whatever_its_size_but_one_per_notification(
    start_notify: Any,
) -> None:
    notify: RunningNotify = await start_notify(run_sender=False)
    async with notify.app.state.units.begin() as uow:
        await uow.repos.audience.subscribe(
            "Castle", WardSubscriber("resident-9", ContactMethod.EMAIL, "r9@example.org")
        )

    async def statements_for(contacts: int) -> tuple[list[str], list[str]]:
        """The batch's statements: queueing a notification, and the rest."""
        pool = CountingPool(notify.app.state.runtime.pool)
        await notify_consumer(notify, pool).handle_batch(as_records(notify, a_flood(contacts)))
        queueing = [sql for sql in pool.statements if sql.lstrip().startswith(QUEUE_NOTIFICATION)]
        rest = [sql for sql in pool.statements if not sql.lstrip().startswith(QUEUE_NOTIFICATION)]
        return queueing, rest

    queueing_5, rest_5 = await statements_for(5)
    queueing_20, rest_20 = await statements_for(20)
    assert (len(queueing_5), len(queueing_20)) == (10, 40), "an acknowledgement and a ward update for each contact"
    # BEGIN with the inbox; the cases, preferences and ward subscribers read ahead; the contacts, cases and
    # due times written; the outbox with COMMIT.
    assert len(rest_20) == len(rest_5) <= 8, rest_20
    assert await notify.app.state.runtime.pool.fetchval("SELECT count(*) FROM cases WHERE sla_due_at IS NOT NULL") == 25


async def test_what_a_unit_of_work_holds_back_is_read_as_written(start_notify: Any) -> None:
    notify: RunningNotify = await start_notify(run_sender=False)
    units, pool = notify.app.state.units, notify.app.state.runtime.pool
    contact_id, reporter_contact = uuid4(), uuid4()
    earlier = a_case(contact_id)
    async with units.begin() as uow:
        await uow.repos.cases.record_case(earlier)

    case = a_case(contact_id)
    due = datetime(2026, 3, 5, 17, tzinfo=timezone(timedelta(hours=1)))
    async with units.begin() as uow:
        cases = uow.repos.cases
        await cases.record_contact(contact_id, 2, "cllr@example.org")
        assert await cases.councillor_of(contact_id) == "cllr@example.org"

        await cases.read_ahead([case.case_id])
        kept = await cases.record_case(case)
        await cases.set_sla_due(case.case_id, due)
        await cases.set_outcome(case.case_id, "Cleared")
        as_held = await cases.get(case.case_id)
        assert await cases.record_case(dataclasses.replace(case, ward="Abbey")) == as_held, (
            "a raise again keeps the first"
        )
        listed = await cases.of_contacts([contact_id])
        assert {c.case_id for c in listed[contact_id]} == {earlier.case_id, case.case_id}
        assert as_held in listed[contact_id], "what was held back is what the database has"

        await cases.set_sla_due(earlier.case_id, due)  # a case not read in this unit
        fetched_earlier = await cases.get(earlier.case_id)
        assert fetched_earlier is not None and fetched_earlier.sla_due_at == due

        reporter = Reporter(case.case_id, reporter_contact, None, {"name": "Sam", "email": "sam@example.org"})
        await cases.add_reporter(reporter)
        assert await cases.reporters_of(case.case_id) == [reporter_contact]
        assert await cases.reporter(case.case_id, reporter_contact) == reporter

    async with units.begin() as uow:
        stored = await uow.repos.cases.get(case.case_id)
    assert kept.sla_due_at is None and as_held is not None and as_held.outcome == "Cleared"
    assert stored == as_held and str(stored.sla_due_at) == str(as_held.sla_due_at)
    assert await pool.fetchval("SELECT count(*) FROM reporters") == 1
