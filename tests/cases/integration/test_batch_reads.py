"""A batch's reads done ahead, on the real database: the histories of the cases it touches and the links
waiting for the cases it raises, read together, change nothing of what the handlers decide."""

from collections.abc import Sequence
from uuid import uuid4

import pytest

from onestop.cases import handlers
from onestop.cases.adapters.repositories import CaseRepositories
from onestop.cases.domain.case import ComplaintPolicy
from onestop.cases.domain.search_terms import BlindIndex
from onestop.cases.domain.sla import OMBUDSMEN, WorkingCalendar
from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseRaised, ReporterLinked
from onestop.contracts.events.routing import DuplicateReportLinked, NeedRouted
from onestop.servicekit.unit_of_work import PostgresUnitOfWork
from tests.cases.conftest import RunningCases
from tests.cases.factories import routed

pytestmark = pytest.mark.integration


async def handle_as_one_batch(cases: RunningCases, events: Sequence[Event]) -> list[EventEnvelope]:
    """What the consumer runtime does on its fast pass: read ahead, run each handler, flush, commit."""
    settings = cases.settings
    calendar = WorkingCalendar.for_council(settings.council_nation, settings.closures)
    complaints = ComplaintPolicy(ombudsman=OMBUDSMEN[settings.council_nation])
    emitted: list[EventEnvelope] = []
    async with cases.pool.acquire() as connection, connection.transaction():
        repos = CaseRepositories(connection, BlindIndex(settings.cases_search_key))
        await repos.read_ahead(events)
        for event in events:
            unit = PostgresUnitOfWork(
                connection, repos, source="/test", cause=EventEnvelope.wrap(event, source="/test")
            )
            if isinstance(event, NeedRouted):
                await handlers.on_need_routed(event, unit, calendar=calendar, complaints=complaints)
            else:
                assert isinstance(event, DuplicateReportLinked)
                await handlers.on_duplicate_report_linked(event, unit)
            emitted += unit.emitted
        await repos.flush()
    return emitted


def link_to(decision: NeedRouted) -> DuplicateReportLinked:
    return DuplicateReportLinked(
        contact_id=uuid4(), need_id=uuid4(), case_id=decision.case_id, linked_at=decision.routed_at
    )


@pytest.mark.parametrize("link_first", [True, False], ids=["link, then raise", "raise, then link"])
async def test_a_link_and_the_raise_of_its_case_in_one_batch_link_the_reporter(
    cases: RunningCases, link_first: bool
) -> None:
    # Its own consumer never sees these events: they are handed to the handlers here, not published.
    decision = routed()
    link = link_to(decision)
    emitted = await handle_as_one_batch(cases, [link, decision] if link_first else [decision, link])

    assert [type(e.data) for e in emitted].count(ReporterLinked) == 1
    async with cases.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM pending_links") == 0
        assert await connection.fetchval("SELECT reporters FROM case_summary WHERE case_id = $1", decision.case_id) == 1


async def test_a_link_kept_in_an_earlier_batch_is_taken_by_the_batch_that_raises_its_case(cases: RunningCases) -> None:
    decision = routed()
    link = link_to(decision)
    assert await handle_as_one_batch(cases, [link]) == []  # kept: its case is not raised yet
    emitted = await handle_as_one_batch(cases, [decision, routed()])

    raised = [e.data for e in emitted if isinstance(e.data, CaseRaised)]
    linked = [e.data for e in emitted if isinstance(e.data, ReporterLinked)]
    assert len(raised) == 2 and [r.contact_id for r in linked] == [link.contact_id]
    async with cases.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM pending_links") == 0
