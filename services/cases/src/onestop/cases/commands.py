"""Changes made from outside the log: API commands and the escalation clock, one unit of work each.

A command sent with a `command_id` is applied once (the command log). Two writers of one case cannot
both win (the event store's versions): the loser reloads and decides again, up to `attempts` times.
"""

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from uuid import UUID

from onestop.cases.adapters.event_store import ConcurrencyConflict
from onestop.cases.adapters.repositories import CaseRepositories
from onestop.cases.changes import Decision, change_case
from onestop.cases.domain.case import Case, ComplaintPolicy
from onestop.cases.domain.sla import WorkingCalendar
from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.servicekit.unit_of_work import UnitsOfWork


class CaseCommands:
    def __init__(
        self,
        units: UnitsOfWork[CaseRepositories],
        clock: Callable[[], datetime],
        *,
        calendar: WorkingCalendar,
        complaints: ComplaintPolicy,
        reopen_window: timedelta,
        triage_team: str,
    ) -> None:
        self.units = units
        self.clock = clock
        self.calendar = calendar
        self.complaints = complaints
        self.reopen_window = reopen_window
        self.triage_team = triage_team

    async def execute(
        self, case_id: UUID, decide: Decision, *, command_id: UUID | None = None, attempts: int = 5
    ) -> list[EventEnvelope]:
        """Apply `decide` to the case; returns the events stored (none for a command already applied).

        Raises CaseRuleBroken when the case refuses, ConcurrencyConflict when it kept changing underneath.
        """
        for attempt in range(1, attempts + 1):
            try:
                async with self.units.begin() as uow:
                    if command_id is not None and await uow.repos.commands.applied(command_id):
                        return []
                    stored = await change_case(uow, case_id, decide)
                    if command_id is not None:
                        await uow.repos.commands.record(command_id, case_id, [envelope.id for envelope in stored])
                    return stored
            except ConcurrencyConflict:
                if attempt == attempts:
                    raise
        raise ValueError(f"attempts must be at least 1, not {attempts}")

    async def sweep_escalations(self, within_areas: Collection[str] | None = None) -> int:
        """Escalate every open case (of `within_areas`, if given) that has reached 30 or 60 days or passed
        its due time, and move each overdue complaint stage up; once each. Returns how many were made."""
        now = self.clock()

        def escalations_due(case: Case) -> list[Event]:
            if within_areas is not None and case.service_area not in within_areas:
                return []
            return case.escalations_due(now) + case.overdue_complaint_stage(now, self.calendar, self.complaints)

        async with self.units.begin() as uow:
            due = await uow.repos.cases.due_for_escalation(now)
        escalated = 0
        for case_id in due:
            escalated += len(await self.execute(case_id, escalations_due))
        return escalated
