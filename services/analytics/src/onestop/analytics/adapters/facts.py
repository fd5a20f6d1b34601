"""Facts from the log, stored by event time so late and out-of-order events count in the right period.

Every write is idempotent (keyed by the event's own natural key), so replaying the log gives the same facts.
A batch of events is applied with one `executemany` per statement, not one round trip per event: inserts
and upserts commute (each touches its own row or its own columns), so they run first, grouped; the
UPDATEs that follow them run after, in log order, because a close and a reopen of one case do not commute.
"""

import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseEscalated,
    CaseHandedOff,
    CaseRaised,
    CaseReopened,
    CaseResolved,
    EscalationReason,
)
from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.notifications import FeedbackReceived, NotificationSent
from onestop.contracts.events.routing import ContactAssessed, DuplicateReportLinked
from onestop.servicekit.database import Connection

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked(schema: str) -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"not a schema name: {schema!r}")
    return schema


class Write(NamedTuple):
    sql: str
    args: tuple[Any, ...]


def _write(sql: str, *args: Any) -> Write:
    return Write(sql, args)


async def apply_batch(connection: Connection, schema: str, envelopes: Iterable[EventEnvelope]) -> None:
    s = checked(schema)
    commuting: dict[str, list[tuple[Any, ...]]] = {}
    in_order: list[tuple[str, list[tuple[Any, ...]]]] = []
    for envelope in envelopes:
        for write in writes(s, envelope.data):
            if write.sql.lstrip().startswith("UPDATE"):
                if in_order and in_order[-1][0] == write.sql:
                    in_order[-1][1].append(write.args)
                else:
                    in_order.append((write.sql, [write.args]))
            else:
                commuting.setdefault(write.sql, []).append(write.args)
    for sql, rows in [*commuting.items(), *in_order]:
        await connection.executemany(sql, rows)


def writes(s: str, event: object) -> Iterator[Write]:
    """The statements that record `event` in the facts of schema `s`."""
    match event:
        case ContactReceived():
            yield _write(
                f"""INSERT INTO {s}.contacts (contact_id, channel, self_service, received_at, needs)
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
                event.contact_id,
                event.channel.value,
                event.channel.is_self_service,
                event.received_at,
                len(event.needs),
            )
            for n in event.needs:
                yield _write(
                    f"""INSERT INTO {s}.needs (contact_id, need_id, service_code, kind, received_at, channel)
                        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
                    event.contact_id,
                    n.need_id,
                    n.service_code,
                    n.kind.value,
                    event.received_at,
                    event.channel.value,
                )
            yield _write(
                f"UPDATE {s}.assessments SET received_at = $2 WHERE contact_id = $1",
                event.contact_id,
                event.received_at,
            )
        case ContactAssessed():
            # The latest assessment of a need counts (a re-route revises it).
            yield _write(
                f"""INSERT INTO {s}.assessments (contact_id, need_id, assessed_at, received_at, channel, service_area,
                        avoidable, category, explanation)
                    VALUES ($1, $2, $3, (SELECT received_at FROM {s}.contacts WHERE contact_id = $1),
                        $4, $5, $6, $7, $8)
                    ON CONFLICT (contact_id, need_id) DO UPDATE SET assessed_at = EXCLUDED.assessed_at,
                        avoidable = EXCLUDED.avoidable, category = EXCLUDED.category, explanation = EXCLUDED.explanation
                    WHERE {s}.assessments.assessed_at <= EXCLUDED.assessed_at""",
                event.contact_id,
                event.need_id,
                event.assessed_at,
                event.channel.value,
                event.service_area,
                event.avoidable,
                event.category.value if event.category else None,
                event.explanation,
            )
        case DuplicateReportLinked():
            yield _write(
                f"INSERT INTO {s}.duplicates VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                event.contact_id,
                event.need_id,
                event.case_id,
                event.linked_at,
            )
        case CaseRaised():
            yield _write(
                f"""INSERT INTO {s}.cases (case_id, contact_id, reference, service_code, service_area, channel, kind,
                        raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
                event.case_id,
                event.contact_id,
                event.reference,
                event.service_code,
                event.service_area,
                event.channel.value,
                event.kind.value,
                event.raised_at,
            )
        case CaseHandedOff():
            yield _write(f"UPDATE {s}.cases SET sla_due_at = $2 WHERE case_id = $1", event.case_id, event.sla_due_at)
        case CaseResolved(at_first_contact=True):
            yield _write(f"UPDATE {s}.cases SET first_contact = true WHERE case_id = $1", event.case_id)
        case CaseClosed():
            yield _write(
                f"UPDATE {s}.cases SET closed_at = $2, outcome = $3, within_sla = $4 WHERE case_id = $1",
                event.case_id,
                event.closed_at,
                event.outcome.value,
                event.within_sla,
            )
        case CaseReopened():
            yield _write(
                f"UPDATE {s}.cases SET closed_at = NULL, outcome = NULL, within_sla = NULL WHERE case_id = $1",
                event.case_id,
            )
        case CaseEscalated(reason=EscalationReason.COMPLAINT_STAGE):
            yield _write(
                f"INSERT INTO {s}.complaint_stages VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                event.case_id,
                event.complaint_stage.value if event.complaint_stage else "informal",
                event.escalated_at,
                event.due_at,
            )
        case CallOffered():
            yield _write(
                f"""INSERT INTO {s}.calls (call_id, queue, offered_at) VALUES ($1, $2, $3)
                    ON CONFLICT (call_id) DO UPDATE SET offered_at = EXCLUDED.offered_at, queue = EXCLUDED.queue""",
                event.call_id,
                event.queue,
                event.offered_at,
            )
        case CallAnswered():
            yield _write(
                f"""INSERT INTO {s}.calls (call_id, queue, answered_at, wait_seconds) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (call_id) DO UPDATE SET answered_at = EXCLUDED.answered_at,
                        wait_seconds = EXCLUDED.wait_seconds""",
                event.call_id,
                event.queue,
                event.answered_at,
                event.wait_seconds,
            )
        case CallAbandoned():
            yield _write(
                f"""INSERT INTO {s}.calls (call_id, queue, abandoned_at, wait_seconds) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (call_id) DO UPDATE SET abandoned_at = EXCLUDED.abandoned_at,
                        wait_seconds = EXCLUDED.wait_seconds""",
                event.call_id,
                event.queue,
                event.abandoned_at,
                event.wait_seconds,
            )
        case TicketIssued():
            yield _write(
                f"""INSERT INTO {s}.tickets (ticket_id, site, issued_at, booked) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (ticket_id) DO UPDATE SET issued_at = EXCLUDED.issued_at, booked = EXCLUDED.booked""",
                event.ticket_id,
                event.site,
                event.issued_at,
                event.booked_appointment,
            )
        case TicketServed():
            yield _write(
                f"""INSERT INTO {s}.tickets (ticket_id, site, served_at, wait_seconds, booked)
                    VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (ticket_id) DO UPDATE SET served_at = EXCLUDED.served_at,
                        wait_seconds = EXCLUDED.wait_seconds""",
                event.ticket_id,
                event.site,
                event.served_at,
                event.wait_seconds,
                event.booked_appointment,
            )
        case NotificationSent():
            yield _write(
                f"INSERT INTO {s}.notifications_sent VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                event.notification_id,
                event.case_id,
                event.sent_at,
            )
        case FeedbackReceived():
            yield _write(
                f"INSERT INTO {s}.feedback VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                event.survey_id,
                event.case_id,
                event.service_area,
                event.received_at,
                event.satisfied,
                event.score,
            )
