"""The one way a case changes: load it, let the aggregate decide, store what happened and emit it.

Event handlers and API commands alike go through `change_case`, inside their unit of work, so the
event store append, the read models and the outbox rows commit together or not at all.
"""

from collections.abc import Callable
from uuid import UUID

from onestop.cases.adapters.repositories import CaseRepositories
from onestop.cases.domain.case import Case
from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.servicekit.unit_of_work import UnitOfWork

Decision = Callable[[Case], list[Event]]


async def change_case(uow: UnitOfWork[CaseRepositories], case_id: UUID, decide: Decision) -> list[EventEnvelope]:
    """Apply what `decide` makes of the case; returns the events stored (none if it decided nothing).

    Raises CaseRuleBroken when the case refuses, ConcurrencyConflict when another writer got there first.
    """
    repos = uow.repos
    case = await repos.cases.get(case_id)
    version, existed = case.version, case.exists
    events = decide(case)
    if not events:
        return []
    for event in events:
        case.apply(event)
    if case.exists and not existed:
        events += await _link_waiting_reporters(uow, case)
    stored = await repos.cases.add(case_id, version, [uow.wrap(event) for event in events])
    uow.emit_envelopes(stored)
    return stored


async def _link_waiting_reporters(uow: UnitOfWork[CaseRepositories], case: Case) -> list[Event]:
    """A case raised now picks up the duplicate reports that were linked before it existed."""
    linked: list[Event] = []
    for link in await uow.repos.pending_links.take(case.case_id):
        events = case.link_reporter(link.contact_id, link.need_id, link.customer, link.linked_at)
        for event in events:
            case.apply(event)
        linked += events
    return linked
