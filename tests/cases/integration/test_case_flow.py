"""The cases service on the real broker and database: raising, working and closing cases."""

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from onestop.cases.adapters.event_store import ConcurrencyConflict
from onestop.cases.changes import change_case
from onestop.cases.domain.case import Case
from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.back_office import HandOffAccepted, ProgressReported, WorkCompleted
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseAccepted,
    CaseChased,
    CaseClosed,
    CaseEscalated,
    CaseHandedOff,
    CaseProgressUpdated,
    CaseRaised,
    CaseResolved,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.common import Channel, HandOffModel, NeedKind
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked
from tests.cases.conftest import RunningCases
from tests.cases.factories import routed
from tests.support import bearer, eventually, publish_events, read_events

pytestmark = pytest.mark.integration

READ = bearer("cases:read")


def wrap(event: object) -> EventEnvelope:
    return EventEnvelope.wrap(event, source="/test")  # type: ignore[arg-type]


async def case_events(cases: RunningCases, count: int) -> list[EventEnvelope]:
    topic = contract_topics.CASES.qualified(cases.settings.topic_namespace)
    return await read_events(cases.settings.kafka_bootstrap_servers, topic, count, within=60)


async def summary(cases: RunningCases, case_id: object, status: str | None = None) -> dict[str, object] | None:
    response = await cases.client.get(f"/cases/{case_id}", headers=READ)
    if response.status_code != 200:
        return None
    body = response.json()["case"]
    return body if status is None or body["status"] == status else None


async def test_a_routed_need_becomes_a_handed_off_case_trackable_by_reference(cases: RunningCases) -> None:
    decision = routed()
    await publish_events(cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace, wrap(decision))

    raised, handed_off = await case_events(cases, 2)
    assert isinstance(raised.data, CaseRaised) and isinstance(handed_off.data, CaseHandedOff)
    assert raised.data.case_id == decision.case_id
    assert raised.subject == str(decision.case_id)
    view = await eventually(lambda: summary(cases, decision.case_id, "handed_off"))
    assert view["team"] == "street-scene"
    tracked = await cases.client.get(f"/track/{raised.data.reference}")
    assert tracked.status_code == 200
    assert tracked.json()["status"] == "handed_off"
    assert "customer_id" not in tracked.json() and "A Resident" not in tracked.text


async def test_the_back_office_works_the_case_over_kafka_until_it_closes(cases: RunningCases) -> None:
    decision = routed()
    bootstrap, namespace = cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace
    await publish_events(bootstrap, namespace, wrap(decision))
    await eventually(lambda: summary(cases, decision.case_id, "handed_off"))
    now, areas = decision.routed_at, ("street_cleaning",)
    await publish_events(
        bootstrap,
        namespace,
        wrap(
            HandOffAccepted(
                case_id=decision.case_id, system="waste-lob", service_areas=areas, work_item_id="W-1", accepted_at=now
            )
        ),
        wrap(
            ProgressReported(
                case_id=decision.case_id,
                system="waste-lob",
                service_areas=areas,
                work_item_id="W-1",
                reported_at=now,
                note="Crew booked",
            )
        ),
        wrap(
            WorkCompleted(
                case_id=decision.case_id,
                system="waste-lob",
                service_areas=areas,
                work_item_id="W-1",
                completed_at=now + timedelta(hours=5),
                outcome="Cleared",
            )
        ),
    )
    events = await case_events(cases, 6)
    types = [type(e.data) for e in events]
    assert types == [CaseRaised, CaseHandedOff, CaseAccepted, CaseProgressUpdated, CaseResolved, CaseClosed]
    closed = await eventually(lambda: summary(cases, decision.case_id, "closed"))
    assert closed["outcome"] == "resolved"


async def test_one_and_done_is_resolved_at_first_contact(cases: RunningCases) -> None:
    decision = routed(
        model=HandOffModel.ONE_AND_DONE, kind=NeedKind.INFORMATION, service_code="L-BINDAYS", area="waste"
    )
    await publish_events(cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace, wrap(decision))
    events = await case_events(cases, 3)
    assert [type(e.data) for e in events] == [CaseRaised, CaseResolved, CaseClosed]
    assert events[1].data.at_first_contact is True  # type: ignore[attr-defined]


async def test_a_duplicate_linked_before_its_case_is_raised_is_not_lost(cases: RunningCases) -> None:
    first = routed()
    reporter = uuid4()
    link = DuplicateReportLinked(contact_id=reporter, need_id=uuid4(), case_id=first.case_id, linked_at=first.routed_at)
    bootstrap, namespace = cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace
    await publish_events(bootstrap, namespace, wrap(link))
    await asyncio.sleep(0)  # the link may well be handled before the decision; order is not promised
    await publish_events(bootstrap, namespace, wrap(first))

    events = await case_events(cases, 3)
    assert [type(e.data) for e in events] == [CaseRaised, CaseHandedOff, ReporterLinked]
    assert events[2].data.contact_id == reporter  # type: ignore[attr-defined]
    view = await eventually(lambda: summary(cases, first.case_id))
    assert view["reporters"] == 1


async def test_a_chase_on_an_advocated_case_alerts_the_advocate(cases: RunningCases) -> None:
    decision = routed(model=HandOffModel.CUSTOMER_ADVOCATE)
    bootstrap, namespace = cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace
    await publish_events(bootstrap, namespace, wrap(decision))
    await eventually(lambda: summary(cases, decision.case_id, "handed_off"))
    chase = ContactAssessed(
        contact_id=uuid4(),
        need_id=uuid4(),
        assessed_at=decision.routed_at,
        channel=Channel.TELEPHONE,
        service_area="street_cleaning",
        avoidable=True,
        category=AvoidableCategory.PROGRESS_CHASING,
        related_case_id=decision.case_id,
    )
    await publish_events(bootstrap, namespace, wrap(chase))
    events = await case_events(cases, 4)
    assert isinstance(events[2].data, CaseChased)
    assert isinstance(events[3].data, CaseEscalated) and events[3].data.reason is EscalationReason.CHASED


async def test_a_redelivered_decision_raises_one_case(cases: RunningCases) -> None:
    decision = routed()
    envelope = wrap(decision)
    bootstrap, namespace = cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace
    await publish_events(bootstrap, namespace, envelope, envelope, wrap(decision))
    await eventually(lambda: summary(cases, decision.case_id, "handed_off"))
    marker = routed()
    await publish_events(bootstrap, namespace, wrap(marker))
    events = await case_events(cases, 4)
    assert [e.data.case_id for e in events].count(decision.case_id) == 2  # type: ignore[attr-defined]
    async with cases.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM events WHERE case_id = $1", decision.case_id) == 2


async def test_a_change_to_a_case_another_writer_changed_since_it_was_read_is_refused(cases: RunningCases) -> None:
    """Appends are written when the unit of work commits: the stale one is still refused, and nothing of it kept."""
    decision = routed()
    bootstrap, namespace = cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace
    await publish_events(bootstrap, namespace, wrap(decision))
    await eventually(lambda: summary(cases, decision.case_id, "handed_off"))

    def chase(case: Case) -> list[Event]:
        return case.record_chase(uuid4(), Channel.TELEPHONE, decision.routed_at)

    with pytest.raises(ConcurrencyConflict):
        async with cases.commands.units.begin() as stale:
            assert (await stale.repos.cases.get(decision.case_id)).version == 2
            committed = await cases.commands.execute(decision.case_id, chase)  # another writer, meanwhile
            await change_case(stale, decision.case_id, chase)  # from the version read above

    async with cases.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM events WHERE case_id = $1", decision.case_id) == 2 + len(
            committed
        )
        projected = await connection.fetchrow(
            "SELECT chases, version FROM case_summary WHERE case_id = $1", decision.case_id
        )
        assert (projected["chases"], projected["version"]) == (1, 2 + len(committed))
