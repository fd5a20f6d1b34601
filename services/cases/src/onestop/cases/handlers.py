"""Use cases: load a case, let the domain decide, and store what happened, exactly once.

Every change runs in one transaction: the inbox (for events consumed) or the command log (for API
commands), the event store append, the read models and the outbox. The outbox relay then publishes.
"""

import json
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from onestop.cases.adapters import event_store, projections
from onestop.cases.adapters.event_store import ConcurrencyConflict
from onestop.cases.domain.case import Case, CaseRuleBroken, ComplaintPolicy
from onestop.cases.domain.sla import AGED_30_DAYS, AGED_60_DAYS, WorkingCalendar
from onestop.cases.settings import CasesSettings
from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, ProgressReported, WorkCompleted
from onestop.contracts.events.base import Event
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased, CustomersMerged
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.inbox import first_delivery
from onestop.servicekit.messaging import UnprocessableEvent

log = logging.getLogger(__name__)

CONSUMER = "cases"
Decision = Callable[[Case], list[Event]]


class CaseNotFound(Exception):
    pass


class CaseService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: CasesSettings,
        clock: Callable[[], datetime],
        calendar: WorkingCalendar | None = None,
        complaints: ComplaintPolicy | None = None,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock
        self.calendar = calendar or WorkingCalendar()
        self.complaints = complaints or ComplaintPolicy()
        self.on_commit = on_commit

    # --- the one way a case changes ------------------------------------------------------------

    async def execute(
        self,
        case_id: UUID,
        decide: Decision,
        *,
        cause: EventEnvelope | None = None,
        command_id: UUID | None = None,
        attempts: int = 5,
    ) -> list[EventEnvelope]:
        for attempt in range(attempts):
            try:
                return await self._execute_once(case_id, decide, cause, command_id)
            except ConcurrencyConflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    async def _execute_once(
        self, case_id: UUID, decide: Decision, cause: EventEnvelope | None, command_id: UUID | None
    ) -> list[EventEnvelope]:
        async with self.pool.acquire() as connection, connection.transaction():
            if cause is not None and not await first_delivery(connection, CONSUMER, cause.id):
                return []
            if command_id is not None:
                done = await connection.fetchval(
                    "SELECT event_ids FROM processed_commands WHERE command_id = $1", command_id
                )
                if done is not None:
                    return []
            history = await event_store.load(connection, case_id)
            case = Case.from_history(case_id, (envelope.data for envelope in history))
            events = decide(case)
            if not events:
                return []
            envelopes = [self._wrap(event, cause) for event in events]
            # A case raised now picks up duplicate reports that were linked before it existed.
            for event in events:
                case.apply(event)
            envelopes += [self._wrap(e, cause) for e in await self._pending_links(connection, case)]
            stored = await event_store.append(connection, case_id, len(history), envelopes)
            await projections.project(connection, stored)
            await outbox.append(connection, stored, self.settings.topic_namespace)
            if command_id is not None:
                await connection.execute(
                    "INSERT INTO processed_commands (command_id, case_id, event_ids) VALUES ($1, $2, $3)",
                    command_id,
                    case_id,
                    [e.id for e in stored],
                )
        if self.settings.cases_fault_exit_after_commit:
            os._exit(75)  # the fault the crash test injects: committed, not yet published
        self.on_commit()
        return stored

    def _wrap(self, event: Event, cause: EventEnvelope | None) -> EventEnvelope:
        return EventEnvelope.wrap(event, source=self.settings.source, caused_by=cause)

    async def _pending_links(self, connection: Connection, case: Case) -> list[Event]:
        if not case.exists:
            return []
        rows = await connection.fetch(
            "DELETE FROM pending_links WHERE case_id = $1 RETURNING event, headers", case.case_id
        )
        linked: list[Event] = []
        for row in rows:
            link = decode_record(row["event"], json.loads(row["headers"])).data
            assert isinstance(link, DuplicateReportLinked)
            events = case.link_reporter(link.contact_id, link.need_id, None, link.linked_at)
            for event in events:
                case.apply(event)
            linked += events
        return linked

    # --- events from other services ------------------------------------------------------------

    async def handle(self, envelope: EventEnvelope) -> None:
        """What the cases service does with each event it consumes."""
        event = envelope.data
        try:
            match event:
                case NeedRouted():
                    await self.execute(event.case_id, lambda case: self._raise(case, event), cause=envelope)
                case DuplicateReportLinked():
                    await self._link_duplicate(envelope, event)
                case ContactAssessed(category=AvoidableCategory.PROGRESS_CHASING, related_case_id=UUID() as case_id):
                    await self.execute(
                        case_id,
                        lambda case: case.record_chase(event.contact_id, event.channel, event.assessed_at),
                        cause=envelope,
                    )
                case HandOffAccepted():
                    await self.execute(event.case_id, lambda case: case.accept(event), cause=envelope)
                case ProgressReported():
                    await self.execute(event.case_id, lambda case: case.progress_from(event), cause=envelope)
                case WorkCompleted():
                    await self.execute(event.case_id, lambda case: case.complete(event), cause=envelope)
                case HandOffRejected():
                    await self.execute(
                        event.case_id,
                        lambda case: case.reject_hand_off(event, self.settings.cases_triage_team),
                        cause=envelope,
                    )
                case ContactReceived():
                    await self._once(envelope, lambda connection: projections.record_contact(connection, event))
                case CustomersMerged():
                    await self._once(
                        envelope,
                        lambda c: projections.record_merge(c, event.surviving_customer_id, event.merged_customer_id),
                    )
                case CustomerErased():
                    await self._once(
                        envelope, lambda connection: projections.forget_customer(connection, event.customer_id)
                    )
        except CaseRuleBroken as exc:
            raise UnprocessableEvent(
                f"{envelope.type} for case {getattr(event, 'case_id', '?')}: {exc.reason}"
            ) from exc

    def _raise(self, case: Case, decision: NeedRouted) -> list[Event]:
        if case.exists:
            return []  # the same decision delivered again: the case is already raised
        events = Case.raise_from(decision, self.calendar)
        preview = Case.from_history(decision.case_id, events)
        return events + preview.start_complaint(decision.routed_at, self.calendar, self.complaints)

    async def _link_duplicate(self, envelope: EventEnvelope, link: DuplicateReportLinked) -> None:
        async with self.pool.acquire() as connection:
            raised = await connection.fetchval("SELECT 1 FROM events WHERE case_id = $1 LIMIT 1", link.case_id)
        if raised:
            await self.execute(
                link.case_id,
                lambda case: case.link_reporter(link.contact_id, link.need_id, None, link.linked_at),
                cause=envelope,
            )
            return
        record = encode_envelope(envelope)

        async def keep_for_later(connection: Connection) -> None:
            await connection.execute(
                "INSERT INTO pending_links (case_id, contact_id, event, headers) VALUES ($1, $2, $3, $4::jsonb)"
                " ON CONFLICT DO NOTHING",
                link.case_id,
                link.contact_id,
                record.value,
                json.dumps(record.headers_dict()),
            )

        await self._once(envelope, keep_for_later)
        # The case may have been raised between the check and the insert: apply the link now if so.
        await self.execute(link.case_id, lambda case: [])

    async def _once(self, envelope: EventEnvelope, effect: Callable[[Connection], Awaitable[object]]) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            if await first_delivery(connection, CONSUMER, envelope.id):
                await effect(connection)

    # --- time ------------------------------------------------------------------------------------

    async def sweep_escalations(self) -> int:
        """Escalate every open case that has reached 30 or 60 days or passed its due time; once each."""
        now = self.clock()
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                """SELECT case_id FROM case_summary
                   WHERE status IN ('raised', 'handed_off', 'accepted', 'in_progress')
                     AND ((raised_at <= $1 AND NOT 'aged_30_days' = ANY(escalations))
                       OR (raised_at <= $2 AND NOT 'aged_60_days' = ANY(escalations))
                       OR (sla_due_at < $3 AND NOT 'sla_breached' = ANY(escalations)))""",
                now - AGED_30_DAYS,
                now - AGED_60_DAYS,
                now,
            )
        escalated = 0
        for row in rows:
            escalated += len(await self.execute(row["case_id"], lambda case: case.escalations_due(now)))
        return escalated

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.settings.cases_reopen_window_days)
