"""Stores a batch's facts with one statement per kind of fact, not one round trip per event.

Every write is keyed by the fact's natural key, so writing a fact twice changes nothing. Facts that
insert or upsert a row commute (each touches its own row or its own columns), so they are written first,
grouped by kind, contacts before what refers to them. The updates of a case follow, in log order, because
a closure and a reopening of one case do not commute.
"""

import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from onestop.analytics.domain.facts import (
    AssessmentFact,
    CallAbandonmentFact,
    CallAnswerFact,
    CallOfferFact,
    CaseFact,
    ClosureFact,
    ComplaintStageFact,
    ContactFact,
    DuplicateFact,
    Fact,
    FeedbackFact,
    FirstContactResolutionFact,
    HandOffModelFact,
    NeedFact,
    NotificationSentFact,
    ReopeningFact,
    SlaDueFact,
    TicketIssueFact,
    TicketServiceFact,
)
from onestop.servicekit.database import Connection

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked(schema: str) -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"not a schema name: {schema!r}")
    return schema


class _Statement:
    def __init__(self, sql: str, fields: tuple[str, ...]) -> None:
        self.sql = sql  # `{s}` stands for the schema
        self.fields = fields  # the fact's fields, as $1, $2, ...
        self._get = attrgetter(*fields)  # one C call per row: a replay writes millions

    def args(self, fact: Fact) -> tuple[Any, ...]:
        values = self._get(fact)
        return values if len(self.fields) > 1 else (values,)


# Written first, kind by kind in this order (an assessment reads its contact's time).
_INSERTS: dict[type[Any], list[_Statement]] = {
    ContactFact: [
        _Statement(
            """INSERT INTO {s}.contacts (contact_id, channel, self_service, received_at, needs)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
            ("contact_id", "channel", "self_service", "received_at", "needs"),
        )
    ],
    NeedFact: [
        _Statement(
            """INSERT INTO {s}.needs (contact_id, need_id, service_code, kind, received_at, channel)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            ("contact_id", "need_id", "service_code", "kind", "received_at", "channel"),
        )
    ],
    AssessmentFact: [
        _Statement(
            # The latest assessment of a need counts (a re-route revises it). Latest in the log, not by its
            # stamp: every assessment of a contact is on its key, in the order routing made them, while a
            # re-route reported by a back office carries the back office's time, which may be earlier than
            # the moment routing caught up with the contact.
            """INSERT INTO {s}.assessments (contact_id, need_id, assessed_at, received_at, channel, service_area,
                   service_code, avoidable, category, explanation, related_case_id)
               VALUES ($1, $2, $3, (SELECT received_at FROM {s}.contacts WHERE contact_id = $1), $4, $5, $6, $7, $8,
                   $9, $10)
               ON CONFLICT (contact_id, need_id) DO UPDATE SET assessed_at = EXCLUDED.assessed_at,
                   service_code = COALESCE(EXCLUDED.service_code, {s}.assessments.service_code),
                   avoidable = EXCLUDED.avoidable, category = EXCLUDED.category, explanation = EXCLUDED.explanation,
                   related_case_id = EXCLUDED.related_case_id""",
            (
                "contact_id",
                "need_id",
                "assessed_at",
                "channel",
                "service_area",
                "service_code",
                "avoidable",
                "category",
                "explanation",
                "related_case_id",
            ),
        )
    ],
    DuplicateFact: [
        _Statement(
            # Filed by its contact's time, like an assessment (and likewise filled in if the contact comes later).
            """INSERT INTO {s}.duplicates (contact_id, need_id, case_id, linked_at, received_at)
               VALUES ($1, $2, $3, $4, (SELECT received_at FROM {s}.contacts WHERE contact_id = $1))
               ON CONFLICT DO NOTHING""",
            ("contact_id", "need_id", "case_id", "linked_at"),
        )
    ],
    CaseFact: [
        _Statement(
            """INSERT INTO {s}.cases (case_id, contact_id, reference, service_code, service_area, channel, kind,
                   raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
            ("case_id", "contact_id", "reference", "service_code", "service_area", "channel", "kind", "raised_at"),
        )
    ],
    HandOffModelFact: [
        _Statement(
            """INSERT INTO {s}.hand_off_models (case_id, hand_off_model) VALUES ($1, $2)
               ON CONFLICT (case_id) DO UPDATE SET hand_off_model = EXCLUDED.hand_off_model""",
            ("case_id", "hand_off_model"),
        )
    ],
    ComplaintStageFact: [
        _Statement(
            "INSERT INTO {s}.complaint_stages VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            ("case_id", "stage", "started_at", "due_at"),
        )
    ],
    CallOfferFact: [
        _Statement(
            """INSERT INTO {s}.calls (call_id, queue, offered_at) VALUES ($1, $2, $3)
               ON CONFLICT (call_id) DO UPDATE SET offered_at = EXCLUDED.offered_at, queue = EXCLUDED.queue""",
            ("call_id", "queue", "offered_at"),
        )
    ],
    CallAnswerFact: [
        _Statement(
            """INSERT INTO {s}.calls (call_id, queue, answered_at, wait_seconds) VALUES ($1, $2, $3, $4)
               ON CONFLICT (call_id) DO UPDATE SET answered_at = EXCLUDED.answered_at,
                   wait_seconds = EXCLUDED.wait_seconds""",
            ("call_id", "queue", "answered_at", "wait_seconds"),
        )
    ],
    CallAbandonmentFact: [
        _Statement(
            """INSERT INTO {s}.calls (call_id, queue, abandoned_at, wait_seconds) VALUES ($1, $2, $3, $4)
               ON CONFLICT (call_id) DO UPDATE SET abandoned_at = EXCLUDED.abandoned_at,
                   wait_seconds = EXCLUDED.wait_seconds""",
            ("call_id", "queue", "abandoned_at", "wait_seconds"),
        )
    ],
    TicketIssueFact: [
        _Statement(
            """INSERT INTO {s}.tickets (ticket_id, site, issued_at, booked) VALUES ($1, $2, $3, $4)
               ON CONFLICT (ticket_id) DO UPDATE SET issued_at = EXCLUDED.issued_at, booked = EXCLUDED.booked""",
            ("ticket_id", "site", "issued_at", "booked"),
        )
    ],
    TicketServiceFact: [
        _Statement(
            """INSERT INTO {s}.tickets (ticket_id, site, served_at, wait_seconds, booked) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (ticket_id) DO UPDATE SET served_at = EXCLUDED.served_at,
                   wait_seconds = EXCLUDED.wait_seconds""",
            ("ticket_id", "site", "served_at", "wait_seconds", "booked"),
        )
    ],
    NotificationSentFact: [
        _Statement(
            "INSERT INTO {s}.notifications_sent VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            ("notification_id", "case_id", "sent_at"),
        )
    ],
    FeedbackFact: [
        _Statement(
            "INSERT INTO {s}.feedback VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            ("survey_id", "case_id", "service_area", "received_at", "satisfied", "score"),
        )
    ],
}

# Written after every insert, in log order.
_UPDATES: dict[type[Any], list[_Statement]] = {
    # An assessment or a duplicate read before its contact gets the contact's time once the contact is in.
    ContactFact: [
        _Statement("UPDATE {s}.assessments SET received_at = $2 WHERE contact_id = $1", ("contact_id", "received_at")),
        _Statement("UPDATE {s}.duplicates SET received_at = $2 WHERE contact_id = $1", ("contact_id", "received_at")),
    ],
    SlaDueFact: [_Statement("UPDATE {s}.cases SET sla_due_at = $2 WHERE case_id = $1", ("case_id", "sla_due_at"))],
    FirstContactResolutionFact: [
        _Statement("UPDATE {s}.cases SET first_contact = true WHERE case_id = $1", ("case_id",))
    ],
    ClosureFact: [
        _Statement(
            "UPDATE {s}.cases SET closed_at = $2, outcome = $3, within_sla = $4 WHERE case_id = $1",
            ("case_id", "closed_at", "outcome", "within_sla"),
        )
    ],
    ReopeningFact: [
        _Statement(
            "UPDATE {s}.cases SET closed_at = NULL, outcome = NULL, within_sla = NULL WHERE case_id = $1",
            ("case_id",),
        ),
        _Statement(
            "INSERT INTO {s}.reopenings (case_id, reopened_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            ("case_id", "reopened_at"),
        ),
    ],
}


class BufferedFacts:
    """The facts of one batch, held until `write` stores them in the facts of `schema`."""

    def __init__(self, connection: Connection, schema: str = "facts") -> None:
        self.connection = connection
        self.schema = checked(schema)
        self.buffered: list[Fact] = []

    def add(self, *facts: Fact) -> None:
        self.buffered.extend(facts)

    async def write(self) -> None:
        """Store and forget what was buffered (call inside the batch's transaction). Forgotten even if the
        write fails: those rows go with the event that is dead-lettered, not into the next event's write."""
        buffered, self.buffered = self.buffered, []
        inserts: dict[type[Any], list[Fact]] = {kind: [] for kind in _INSERTS}
        for fact in buffered:
            if type(fact) in inserts:
                inserts[type(fact)].append(fact)
        for kind, facts in inserts.items():
            for statement in _INSERTS[kind]:
                await self._execute(statement, facts)
        # Consecutive updates of one kind still go together; a change of kind keeps the log's order.
        run: list[Fact] = []
        for fact in buffered:
            if type(fact) not in _UPDATES:
                continue
            if run and type(run[-1]) is not type(fact):
                await self._update(run)
                run = []
            run.append(fact)
        await self._update(run)

    async def _update(self, facts: list[Fact]) -> None:
        if facts:
            for statement in _UPDATES[type(facts[0])]:
                await self._execute(statement, facts)

    async def _execute(self, statement: _Statement, facts: list[Fact]) -> None:
        if facts:
            await self.connection.executemany(
                statement.sql.format(s=self.schema), [statement.args(fact) for fact in facts]
            )


def facts_in(schema: str) -> Callable[[Connection], BufferedFacts]:
    """The repositories factory of a consumer that writes the facts of `schema`."""
    checked(schema)
    return lambda connection: BufferedFacts(connection, schema)
