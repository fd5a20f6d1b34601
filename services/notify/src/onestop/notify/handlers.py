"""Turning case events into notifications, and sending them exactly once.

Consuming an event and deciding who hears what is one transaction with its inbox row: each notification
is a row whose key (trigger event, recipient, template) is unique, plus its `NotificationRequested` in the
outbox. The sender then sends due rows: it marks a row `sending` (committed) before handing it to a
provider and `sent` after, so a restart in between never sends twice (such a row is settled as sent but
unconfirmed rather than risk a duplicate). Temporary failures retry with back-off; a permanent one falls
back to the next method the person consented to, and a letter is the last resort.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseProgressUpdated,
    CaseRaised,
    CaseResolved,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.common import ContactMethod, CustomerDetails
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.events.notifications import (
    FeedbackReceived,
    FeedbackRequested,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
    Recipient,
    RecipientRole,
    SurveyKind,
)
from onestop.contracts.service_catalogue import ServiceCatalogue
from onestop.notify.adapters.channels import Channels, PermanentFailure
from onestop.notify.domain.policy import Reachability, in_sample, notification_key, retry_delay, sample_rate
from onestop.notify.domain.templates import Templates
from onestop.notify.settings import NotifySettings
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.inbox import first_delivery

log = logging.getLogger(__name__)
CONSUMER = "notify"


class SurveyNotFound(Exception):
    pass


def _customer_json(customer: CustomerDetails | None) -> str | None:
    return customer.model_dump_json() if customer else None


def _reachability(customer: dict[str, Any] | None, preferences: asyncpg.Record | None) -> Reachability | None:
    """How to reach a customer: their stored preferences if any, else what they told us on contact."""
    if preferences is not None:
        addresses = {
            ContactMethod.EMAIL: preferences["email"],
            ContactMethod.SMS: preferences["phone"],
            ContactMethod.LETTER: preferences["postal_address"],
            ContactMethod.APP: preferences["webhook_url"],
        }
        return Reachability(
            ContactMethod(preferences["preferred_method"]),
            frozenset(ContactMethod(m) for m in preferences["consents"]),
            {k: v for k, v in addresses.items() if v},
        )
    if not customer:
        return None
    addresses = {
        ContactMethod.EMAIL: customer.get("email"),
        ContactMethod.SMS: customer.get("phone"),
        ContactMethod.LETTER: customer.get("address"),
    }
    present = {k: v for k, v in addresses.items() if v}
    # Giving us an address on contact is consent to hear back about that contact by that means.
    return Reachability(ContactMethod(customer.get("preferred_contact_method") or "email"), frozenset(present), present)


class NotifyService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: NotifySettings,
        catalogue: ServiceCatalogue,
        templates: Templates,
        channels: Channels,
        clock: Callable[[], datetime],
        on_commit: Callable[[], None],
    ) -> None:
        self.pool, self.settings, self.catalogue, self.templates = pool, settings, catalogue, templates
        self.channels, self.clock, self.on_commit = channels, clock, on_commit

    def _wrap(self, event: Event, cause: EventEnvelope | None = None) -> EventEnvelope:
        return EventEnvelope.wrap(event, source=self.settings.source, caused_by=cause)

    def _service_name(self, code: str) -> str:
        service = self.catalogue.service(code)
        return service.name if service else code

    # --- deciding who hears what -------------------------------------------------------------------

    async def handle(self, envelope: EventEnvelope) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, CONSUMER, envelope.id):
                return
            requested = await self._decide(connection, envelope)
            await outbox.append(connection, requested, self.settings.topic_namespace)
        self.on_commit()

    async def _decide(self, connection: Connection, envelope: EventEnvelope) -> list[EventEnvelope]:
        event = envelope.data
        match event:
            case ContactReceived():
                await connection.execute(
                    "INSERT INTO contacts (contact_id, needs, councillor) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    event.contact_id,
                    len(event.needs),
                    event.on_behalf_of_councillor,
                )
                return []
            case CaseRaised():
                await connection.execute(
                    """INSERT INTO cases (case_id, contact_id, reference, service_code, service_area, customer_id,
                           customer, ward) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) ON CONFLICT DO NOTHING""",
                    event.case_id,
                    event.contact_id,
                    event.reference,
                    event.service_code,
                    event.service_area,
                    event.customer.customer_id if event.customer else None,
                    _customer_json(event.customer),
                    event.location.ward if event.location else None,
                )
                # One acknowledgement per contact, a moment later, listing every case it raised.
                due = self.clock() + timedelta(seconds=self.settings.notify_acknowledgement_grouping_seconds)
                acknowledgement = await self._to_customer(
                    connection, envelope, event.case_id, "acknowledgement", {}, key_trigger=event.contact_id, due=due
                )
                return acknowledgement + await self._to_ward(connection, envelope, event.case_id, "was reported", "")
            case CaseHandedOff():
                await connection.execute(
                    "UPDATE cases SET sla_due_at = $2 WHERE case_id = $1", event.case_id, event.sla_due_at
                )
                return []
            case CaseProgressUpdated(public=True):
                context = {"note": event.note, "expected": _day(event.expected_by)}
                return await self._to_followers(connection, envelope, event.case_id, "progress", context)
            case CaseResolved():
                await connection.execute(
                    "UPDATE cases SET outcome = $2 WHERE case_id = $1", event.case_id, event.outcome
                )
                return []
            case CaseDeclined():
                await connection.execute(
                    "UPDATE cases SET outcome = $2, declined = true WHERE case_id = $1", event.case_id, event.reason
                )
                return []
            case CaseClosed():
                return await self._closed(connection, envelope, event)
            case ReporterLinked():
                await connection.execute(
                    """INSERT INTO reporters (case_id, contact_id, customer_id, customer) VALUES ($1, $2, $3, $4::jsonb)
                       ON CONFLICT DO NOTHING""",
                    event.case_id,
                    event.contact_id,
                    event.customer.customer_id if event.customer else None,
                    _customer_json(event.customer),
                )
                return await self._to_reporter(
                    connection, envelope, event.case_id, event.contact_id, "already_in_hand", {}
                )
            case CaseEscalated():
                return await self._staff_alert(connection, envelope, event)
            case CustomerErased():
                await self._forget(connection, event.customer_id)
                return []
        return []

    async def _closed(self, connection: Connection, envelope: EventEnvelope, closed: CaseClosed) -> list[EventEnvelope]:
        case = await connection.fetchrow(
            "UPDATE cases SET closed_at = $2 WHERE case_id = $1 RETURNING *", closed.case_id, closed.closed_at
        )
        if case is None or closed.outcome is CaseOutcome.WITHDRAWN:
            return []
        if case["declined"]:
            requested = await self._to_followers(
                connection, envelope, closed.case_id, "declined", {"reason": case["outcome"]}
            )
        else:
            requested = await self._to_followers(
                connection, envelope, closed.case_id, "completed", {"outcome": case["outcome"] or "The work is done."}
            )
            requested += await self._plan_surveys(connection, envelope, case, closed)
        return requested + await self._to_ward(
            connection, envelope, closed.case_id, "was closed", case["outcome"] or ""
        )

    # --- recipients --------------------------------------------------------------------------------

    async def _case(self, connection: Connection, case_id: UUID) -> asyncpg.Record | None:
        return await connection.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)

    async def _to_followers(
        self, connection: Connection, cause: EventEnvelope, case_id: UUID, template: str, context: dict[str, Any]
    ) -> list[EventEnvelope]:
        """The customer, every linked reporter, and the councillor who raised it."""
        requested = await self._to_customer(connection, cause, case_id, template, context)
        for reporter in await connection.fetch("SELECT contact_id FROM reporters WHERE case_id = $1", case_id):
            requested += await self._to_reporter(connection, cause, case_id, reporter["contact_id"], template, context)
        case = await self._case(connection, case_id)
        if case is not None:
            councillor = await connection.fetchval(
                "SELECT councillor FROM contacts WHERE contact_id = $1", case["contact_id"]
            )
            if councillor and "@" in councillor:
                recipient = Recipient(role=RecipientRole.COUNCILLOR, id=councillor, address=councillor)
                requested += await self._queue(
                    connection, cause, case, recipient, ContactMethod.EMAIL, template, context
                )
        return requested

    async def _to_customer(
        self,
        connection: Connection,
        cause: EventEnvelope,
        case_id: UUID,
        template: str,
        context: dict[str, Any],
        key_trigger: UUID | None = None,
        due: datetime | None = None,
    ) -> list[EventEnvelope]:
        case = await self._case(connection, case_id)
        if case is None or case["customer_id"] is None:
            return []
        customer = json.loads(case["customer"]) if case["customer"] else None
        preferences = await connection.fetchrow("SELECT * FROM preferences WHERE customer_id = $1", case["customer_id"])
        if template == "progress" and preferences is not None and not preferences["progress_updates"]:
            return []
        reach = _reachability(customer, preferences)
        chosen = reach.method() if reach else None
        if chosen is None:
            return []
        recipient = Recipient(role=RecipientRole.CUSTOMER, id=str(case["customer_id"]), address=chosen[1])
        context = {"name": (customer or {}).get("name"), **context}
        return await self._queue(
            connection,
            cause,
            case,
            recipient,
            chosen[0],
            template,
            context,
            key_trigger=key_trigger,
            due=due,
            language=(customer or {}).get("language", "en"),
        )

    async def _to_reporter(
        self,
        connection: Connection,
        cause: EventEnvelope,
        case_id: UUID,
        contact_id: UUID,
        template: str,
        context: dict[str, Any],
    ) -> list[EventEnvelope]:
        row = await connection.fetchrow(
            "SELECT * FROM reporters WHERE case_id = $1 AND contact_id = $2", case_id, contact_id
        )
        case = await self._case(connection, case_id)
        if row is None or case is None or row["customer"] is None:
            return []
        customer = json.loads(row["customer"])
        reach = _reachability(customer, None)
        chosen = reach.method() if reach else None
        if chosen is None:
            return []
        recipient = Recipient(role=RecipientRole.REPORTER, id=str(row["customer_id"] or contact_id), address=chosen[1])
        return await self._queue(
            connection, cause, case, recipient, chosen[0], template, {"name": customer.get("name"), **context}
        )

    async def _to_ward(
        self, connection: Connection, cause: EventEnvelope, case_id: UUID, what: str, detail: str
    ) -> list[EventEnvelope]:
        case = await self._case(connection, case_id)
        if case is None or not case["ward"]:
            return []
        requested = []
        for subscriber in await connection.fetch("SELECT * FROM ward_subscriptions WHERE ward = $1", case["ward"]):
            recipient = Recipient(
                role=RecipientRole.WARD_SUBSCRIBER, id=subscriber["subscriber_id"], address=subscriber["address"]
            )
            context = {"ward": case["ward"], "what": what, "detail": detail}
            requested += await self._queue(
                connection, cause, case, recipient, ContactMethod(subscriber["method"]), "ward_update", context
            )
        return requested

    async def _staff_alert(
        self, connection: Connection, cause: EventEnvelope, escalated: CaseEscalated
    ) -> list[EventEnvelope]:
        if escalated.reason not in (
            EscalationReason.AGED_30_DAYS,
            EscalationReason.AGED_60_DAYS,
            EscalationReason.CHASED,
            EscalationReason.SLA_BREACHED,
        ):
            return []
        case = await self._case(connection, escalated.case_id)
        if case is None:
            return []
        headline = {
            EscalationReason.AGED_30_DAYS: "A case has been open 30 days",
            EscalationReason.AGED_60_DAYS: "A case has been open 60 days, beyond the corporate standard",
            EscalationReason.CHASED: "The customer has chased this case",
            EscalationReason.SLA_BREACHED: "A case has missed its service standard",
        }[escalated.reason]
        requested = []
        for role in escalated.escalated_to:
            mailbox = f"{role.replace('_', '.')}.{escalated.service_area.replace('_', '-')}"
            address = f"{mailbox}@{self.settings.notify_staff_email_domain}"
            recipient = Recipient(role=RecipientRole.STAFF, id=f"{role}:{escalated.service_area}", address=address)
            context = {
                "headline": headline,
                "reason": escalated.reason.value.replace("_", " "),
                "days_open": escalated.days_open,
                "due": _day(case["sla_due_at"]),
            }
            requested += await self._queue(
                connection, cause, case, recipient, ContactMethod.EMAIL, "staff_alert", context
            )
        return requested

    async def _queue(
        self,
        connection: Connection,
        cause: EventEnvelope,
        case: asyncpg.Record,
        recipient: Recipient,
        method: ContactMethod,
        template: str,
        context: dict[str, Any],
        *,
        key_trigger: UUID | None = None,
        due: datetime | None = None,
        language: str = "en",
    ) -> list[EventEnvelope]:
        """Record one notification (once per key) and its NotificationRequested."""
        trigger = key_trigger or cause.id
        key = notification_key(trigger, recipient.id, template)
        context = {
            "reference": case["reference"],
            "service": self._service_name(case["service_code"]),
            "service_area": case["service_area"],
            "tracking_url": f"{self.settings.notify_public_base_url.replace('8004', '8003')}/track/{case['reference']}",
            **context,
        }
        notification_id = uuid4()
        inserted = await connection.fetchval(
            """INSERT INTO notifications (notification_id, notification_key, trigger_event_id, case_id, contact_id,
                   recipient_role, recipient_id, method, address, template, language, context, due_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)
               ON CONFLICT (notification_key) DO NOTHING RETURNING true""",
            notification_id,
            key,
            cause.id,
            case["case_id"],
            case["contact_id"],
            recipient.role.value,
            recipient.id,
            method.value,
            recipient.address,
            template,
            language,
            json.dumps(context, default=str),
            due or self.clock(),
        )
        if not inserted:
            return []
        event = NotificationRequested(
            notification_id=notification_id,
            requested_at=self.clock(),
            recipient=recipient,
            method=method,
            template=template,
            language=language,
            case_id=case["case_id"],
            trigger_event_id=cause.id,
        )
        return [self._wrap(event, cause)]

    async def _forget(self, connection: Connection, customer_id: UUID) -> None:
        """Erasure: contact details go from every table; what statistics need (counts, dates) stays."""
        await connection.execute("UPDATE cases SET customer = NULL WHERE customer_id = $1", customer_id)
        await connection.execute("UPDATE reporters SET customer = NULL WHERE customer_id = $1", customer_id)
        await connection.execute("DELETE FROM preferences WHERE customer_id = $1", customer_id)
        await connection.execute(
            """UPDATE notifications SET address = NULL, context = '{}'::jsonb
               WHERE recipient_id = $1 AND recipient_role IN ('customer', 'reporter')""",
            str(customer_id),
        )

    # --- surveys -----------------------------------------------------------------------------------

    async def _plan_surveys(
        self, connection: Connection, cause: EventEnvelope, case: asyncpg.Record, closed: CaseClosed
    ) -> list[EventEnvelope]:
        requested: list[EventEnvelope] = []
        rate = sample_rate(self.settings.notify_feedback_sample_rates, case["service_area"])
        if in_sample(case["case_id"], rate):
            requested += await self._survey(connection, cause, case, SurveyKind.ON_CLOSE, closed.closed_at)
        service = self.catalogue.service(case["service_code"])
        if service is not None and service.repair:
            await connection.execute(
                """INSERT INTO surveys (survey_id, case_id, kind, service_area, due_at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT DO NOTHING""",
                uuid4(),
                case["case_id"],
                SurveyKind.REPAIR_FOLLOW_UP.value,
                case["service_area"],
                closed.closed_at + timedelta(days=self.settings.notify_repair_follow_up_days),
            )
        return requested

    async def _survey(
        self,
        connection: Connection,
        cause: EventEnvelope,
        case: asyncpg.Record,
        kind: SurveyKind,
        due: datetime,
        survey_id: UUID | None = None,
    ) -> list[EventEnvelope]:
        survey_id = survey_id or uuid4()
        await connection.execute(
            """INSERT INTO surveys (survey_id, case_id, kind, service_area, due_at, requested)
               VALUES ($1, $2, $3, $4, $5, true)
               ON CONFLICT (case_id, kind) DO UPDATE SET requested = true""",
            survey_id,
            case["case_id"],
            kind.value,
            case["service_area"],
            due,
        )
        survey_id = await connection.fetchval(
            "SELECT survey_id FROM surveys WHERE case_id = $1 AND kind = $2", case["case_id"], kind.value
        )
        context = {
            "survey_url": f"{self.settings.notify_public_base_url}/feedback/{self.survey_token(survey_id)}",
            "follow_up": kind is SurveyKind.REPAIR_FOLLOW_UP,
        }
        requested = await self._to_customer(
            connection, cause, case["case_id"], "feedback_request", context, key_trigger=survey_id
        )
        if not requested:
            return []
        notification = requested[0].data
        assert isinstance(notification, NotificationRequested)
        asked = FeedbackRequested(
            survey_id=survey_id,
            case_id=case["case_id"],
            requested_at=self.clock(),
            survey=kind,
            service_area=case["service_area"],
            recipient=notification.recipient,
        )
        return [*requested, self._wrap(asked, cause)]

    async def send_due_follow_ups(self) -> int:
        """Ask about repairs whose six weeks are up (the clock is injected, so tests run at any date)."""
        now = self.clock()
        async with self.pool.acquire() as connection, connection.transaction():
            due = await connection.fetch(
                """SELECT s.survey_id, s.case_id FROM surveys s WHERE s.kind = 'repair_follow_up' AND NOT s.requested
                   AND s.due_at <= $1 FOR UPDATE SKIP LOCKED""",
                now,
            )
            requested: list[EventEnvelope] = []
            for row in due:
                case = await self._case(connection, row["case_id"])
                if case is None:
                    continue
                cause = self._wrap(
                    FeedbackRequested(
                        survey_id=row["survey_id"],
                        case_id=row["case_id"],
                        requested_at=now,
                        survey=SurveyKind.REPAIR_FOLLOW_UP,
                        service_area=case["service_area"],
                        recipient=Recipient(role=RecipientRole.CUSTOMER, id="pending"),
                    )
                )
                requested += await self._survey(
                    connection, cause, case, SurveyKind.REPAIR_FOLLOW_UP, now, row["survey_id"]
                )
            await outbox.append(connection, requested, self.settings.topic_namespace)
        self.on_commit()
        return len(due)

    def survey_token(self, survey_id: UUID) -> str:
        signature = hmac.new(self.settings.notify_survey_secret.encode(), survey_id.bytes, hashlib.sha256).hexdigest()[
            :32
        ]
        return f"{survey_id}.{signature}"

    def survey_of(self, token: str) -> UUID:
        survey = token.partition(".")[0]
        try:
            survey_id = UUID(survey)
        except ValueError as exc:
            raise SurveyNotFound(token) from exc
        if not hmac.compare_digest(self.survey_token(survey_id), token):
            raise SurveyNotFound(token)
        return survey_id

    async def record_answer(self, token: str, satisfied: bool, score: int, comment: str) -> FeedbackReceived:
        survey_id = self.survey_of(token)
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "UPDATE surveys SET answered = true WHERE survey_id = $1 AND NOT answered"
                " RETURNING case_id, service_area",
                survey_id,
            )
            if row is None:
                raise SurveyNotFound(token)
            answer = FeedbackReceived(
                survey_id=survey_id,
                case_id=row["case_id"],
                received_at=self.clock(),
                service_area=row["service_area"],
                satisfied=satisfied,
                score=score,
                comment=comment,
            )
            await outbox.append(connection, [self._wrap(answer)], self.settings.topic_namespace)
        self.on_commit()
        return answer

    # --- sending -----------------------------------------------------------------------------------

    async def settle_interrupted(self) -> int:
        """At start-up: a row left `sending` may or may not have gone; never risk sending it twice."""
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                "UPDATE notifications SET status = 'sent', sent_at = now(), last_error = 'interrupted while sending; "
                "not resent, to avoid a duplicate' WHERE status = 'sending' RETURNING notification_id, method, case_id"
            )
            events = [
                self._wrap(
                    NotificationSent(
                        notification_id=r["notification_id"],
                        sent_at=self.clock(),
                        method=ContactMethod(r["method"]),
                        case_id=r["case_id"],
                        provider_reference="unconfirmed",
                    )
                )
                for r in rows
            ]
            await outbox.append(connection, events, self.settings.topic_namespace)
        return len(rows)

    async def send_due(self, limit: int = 50) -> int:
        """Send what is due now; returns how many were attempted."""
        now = self.clock()
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                """UPDATE notifications SET status = 'sending', attempts = attempts + 1
                   WHERE notification_id IN (SELECT notification_id FROM notifications WHERE status = 'pending'
                       AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                   RETURNING *""",
                now,
                limit,
            )
        for row in rows:
            await self._send_one(row)
        return len(rows)

    async def _send_one(self, row: asyncpg.Record) -> None:
        method = ContactMethod(row["method"])
        context = json.loads(row["context"])
        async with self.pool.acquire() as connection:
            context = await self._fresh_context(connection, row, context)
        try:
            message = self.templates.render(row["template"], context, row["language"], context.get("service_area"))
        except Exception as exc:  # a template that cannot render never will: fail it, do not stall the queue
            await self._failed(row, f"cannot render {row['template']}: {exc}")
            return
        try:
            reference = await self.channels.send(method, row["notification_id"], row["address"] or "", message)
        except PermanentFailure as exc:
            await self._failed(row, str(exc))
            return
        except Exception as exc:  # TemporaryFailure, or anything unforeseen: back off and try again
            await self._retry_or_give_up(row, f"{type(exc).__name__}: {exc}")
            return
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "UPDATE notifications SET status = 'sent', sent_at = $2 WHERE notification_id = $1",
                row["notification_id"],
                self.clock(),
            )
            sent = NotificationSent(
                notification_id=row["notification_id"],
                sent_at=self.clock(),
                method=method,
                case_id=row["case_id"],
                provider_reference=reference[:200],
            )
            await outbox.append(connection, [self._wrap(sent)], self.settings.topic_namespace)
        self.on_commit()

    async def _fresh_context(
        self, connection: Connection, row: asyncpg.Record, context: dict[str, Any]
    ) -> dict[str, Any]:
        """An acknowledgement lists every case its contact raised by the time it goes out."""
        if row["template"] != "acknowledgement":
            return context
        cases = await connection.fetch(
            "SELECT reference, service_code, sla_due_at, closed_at FROM cases WHERE contact_id = $1 ORDER BY reference",
            row["contact_id"],
        )
        context["cases"] = [
            {
                "reference": c["reference"],
                "service": self._service_name(c["service_code"]),
                "expected": _day(c["sla_due_at"]),
                "done": c["closed_at"] is not None,
            }
            for c in cases
        ]
        return context

    async def _retry_or_give_up(self, row: asyncpg.Record, reason: str) -> None:
        if row["attempts"] >= self.settings.notify_max_attempts:
            await self._failed(row, f"gave up after {row['attempts']} attempts: {reason}")
            return
        async with self.pool.acquire() as connection:
            await connection.execute(
                "UPDATE notifications SET status = 'pending', due_at = $2, last_error = $3 WHERE notification_id = $1",
                row["notification_id"],
                self.clock() + timedelta(seconds=retry_delay(row["attempts"])),
                reason[:500],
            )

    async def _failed(self, row: asyncpg.Record, reason: str) -> None:
        """Permanent failure: record it, and fall back to the next method the person consented to."""
        method = ContactMethod(row["method"])
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "UPDATE notifications SET status = 'failed', last_error = $2 WHERE notification_id = $1",
                row["notification_id"],
                reason[:500],
            )
            fallback = await self._fallback(connection, row, method)
            failed = NotificationFailed(
                notification_id=row["notification_id"],
                failed_at=self.clock(),
                method=method,
                reason=reason[:2000],
                permanent=True,
                case_id=row["case_id"],
                fallback_method=fallback,
            )
            await outbox.append(connection, [self._wrap(failed)], self.settings.topic_namespace)
        self.on_commit()

    async def _fallback(
        self, connection: Connection, row: asyncpg.Record, failed: ContactMethod
    ) -> ContactMethod | None:
        if row["recipient_role"] not in ("customer", "reporter"):
            return None
        tried = await connection.fetch(
            "SELECT method FROM notifications WHERE trigger_event_id = $1 AND recipient_id = $2 AND template = $3",
            row["trigger_event_id"],
            row["recipient_id"],
            row["template"],
        )
        case = await self._case(connection, row["case_id"]) if row["case_id"] else None
        if case is None:
            return None
        customer = json.loads(case["customer"]) if case["customer"] else None
        preferences = None
        try:
            preferences = await connection.fetchrow(
                "SELECT * FROM preferences WHERE customer_id = $1", UUID(row["recipient_id"])
            )
        except ValueError:
            pass
        reach = _reachability(customer, preferences)
        chosen = (
            reach.method(excluding=frozenset(ContactMethod(t["method"]) for t in tried) | {failed}) if reach else None
        )
        if chosen is None:
            return None
        await connection.execute(
            """INSERT INTO notifications (notification_id, notification_key, trigger_event_id, case_id, contact_id,
                   recipient_role, recipient_id, method, address, template, language, context, due_at)
               SELECT $1, notification_key || ':' || $2, trigger_event_id, case_id, contact_id, recipient_role,
                   recipient_id, $2, $3, template, language, context, $4 FROM notifications WHERE notification_id = $5
               ON CONFLICT (notification_key) DO NOTHING""",
            uuid4(),
            chosen[0].value,
            chosen[1],
            self.clock(),
            row["notification_id"],
        )
        return chosen[0]


def _day(moment: datetime | None) -> str | None:
    return moment.strftime("%A %-d %B %Y") if moment else None
