"""Routing each need of each contact, and keeping the model of known cases that routing relies on.

Decisions for one contact are written in one transaction with its inbox row, and published through the
outbox keyed by the contact, so they come out once and in order.
"""

import json
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseClosed, CaseRaised, CaseReassigned, CaseReopened
from onestop.contracts.events.common import Location, Priority
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import (
    AvoidableCategory,
    ContactAssessed,
    DuplicateReportLinked,
    NeedRouted,
    NeedSentToTriage,
    RoutingRulesPublished,
)
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.contracts.service_catalogue import ServiceCatalogue
from onestop.routing.domain import rules as routing_rules
from onestop.routing.domain.classifier import KeywordClassifier
from onestop.routing.domain.decisions import (
    Context,
    KnownCase,
    LinkDuplicate,
    RaiseCase,
    RecordChase,
    Verdict,
    decide,
)
from onestop.routing.settings import RoutingSettings
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.inbox import first_delivery

log = logging.getLogger(__name__)
CONSUMER = "routing"


class NotInTriage(Exception):
    pass


class RulesFile:
    """The rules in force, reloaded when the file changes; an invalid file leaves the last good rules."""

    def __init__(self, path: Path, catalogue: ServiceCatalogue) -> None:
        self.path = path
        self.catalogue = catalogue
        self.rules, self.checksum = routing_rules.parse_rules(path.read_text(), catalogue)
        self._mtime = path.stat().st_mtime_ns
        self.last_error: str | None = None

    def reload_if_changed(self, force: bool = False) -> bool:
        mtime = self.path.stat().st_mtime_ns
        if mtime == self._mtime and not force:
            return False
        self._mtime = mtime
        try:
            rules, checksum = routing_rules.parse_rules(self.path.read_text(), self.catalogue)
        except Exception as exc:
            self.last_error = f"{self.path.name} is invalid, keeping version {self.rules.version}: {exc}"
            log.error(self.last_error)
            return False
        self.last_error = None
        changed = checksum != self.checksum
        self.rules, self.checksum = rules, checksum
        return changed


class RoutingService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: RoutingSettings,
        catalogue: ServiceCatalogue,
        rules: RulesFile,
        classifier: KeywordClassifier,
        clock: Callable[[], datetime],
        on_commit: Callable[[], None],
    ) -> None:
        self.pool, self.settings, self.catalogue = pool, settings, catalogue
        self.rules, self.classifier, self.clock, self.on_commit = rules, classifier, clock, on_commit

    def _wrap(self, event: Event, cause: EventEnvelope | None) -> EventEnvelope:
        return EventEnvelope.wrap(event, source=self.settings.source, caused_by=cause)

    # --- consuming ---------------------------------------------------------------------------------

    async def handle(self, envelope: EventEnvelope) -> None:
        event = envelope.data
        if isinstance(event, ContactReceived):
            await self._route_contact(envelope, event)
        elif isinstance(event, CaseRaised):
            await self._remember_case(event)
        elif isinstance(event, CaseClosed):
            await self._execute(
                "UPDATE known_cases SET closed_at = $2 WHERE case_id = $1", event.case_id, event.closed_at
            )
        elif isinstance(event, CaseReopened):
            await self._execute("UPDATE known_cases SET closed_at = NULL WHERE case_id = $1", event.case_id)
        elif isinstance(event, CaseReassigned) and event.rerouted:
            await self._wrongly_routed(envelope, event)

    async def _execute(self, sql: str, *args: object) -> None:
        async with self.pool.acquire() as connection:
            await connection.execute(sql, *args)

    async def _route_contact(self, envelope: EventEnvelope, contact: ContactReceived) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, CONSUMER, envelope.id):
                return
            events: list[Event] = []
            for need in contact.needs:
                events += await self._route_need(connection, envelope, contact, need)
            await outbox.append(connection, [self._wrap(e, envelope) for e in events], self.settings.topic_namespace)
        self.on_commit()

    async def _route_need(
        self, connection: Connection, envelope: EventEnvelope, contact: ContactReceived, need: Need
    ) -> list[Event]:
        now = self.clock()
        service_code, confidence = need.service_code, None
        if service_code is None and need.about_reference:
            # "About my case OS-...": the case says which service it is.
            service_code = await connection.fetchval(
                "SELECT service_code FROM known_cases WHERE reference = $1", need.about_reference
            )
        if service_code is None or self.catalogue.service(service_code) is None:
            guess = self.classifier.classify(need.description)
            if guess.service_code is None or guess.confidence < self.settings.routing_triage_threshold:
                return [
                    await self._send_to_triage(
                        connection, envelope, contact, need, guess.service_code, guess.confidence
                    )
                ]
            service_code, confidence = guess.service_code, guess.confidence
        return await self._decide(connection, contact, need, service_code, confidence, now)

    async def _decide(
        self,
        connection: Connection,
        contact: ContactReceived,
        need: Need,
        service_code: str,
        confidence: float | None,
        now: datetime,
    ) -> list[Event]:
        area = self.catalogue.area_of(service_code)
        assert area is not None
        context = await self._context(connection, contact, need, service_code, now)
        decision = decide(need, service_code, context, self.settings.routing_duplicate_radius_metres)
        events: list[Event] = []
        if isinstance(decision, RaiseCase):
            routed = self._route(contact, need, service_code, area.id, confidence, now)
            await self._remember_decision(connection, routed)
            events.append(routed)
        elif isinstance(decision, LinkDuplicate):
            events.append(
                DuplicateReportLinked(
                    contact_id=contact.contact_id,
                    need_id=need.need_id,
                    case_id=decision.case.case_id,
                    linked_at=now,
                    customer_id=contact.customer.customer_id if contact.customer else None,
                    distance_metres=decision.distance_metres,
                )
            )
        assert isinstance(decision, RaiseCase | LinkDuplicate | RecordChase)
        events.append(self._assessment(contact, need, area.id, decision.verdict, now))
        return events

    def _route(
        self,
        contact: ContactReceived,
        need: Need,
        service_code: str,
        area: str,
        confidence: float | None,
        now: datetime,
    ) -> NeedRouted:
        vulnerable = bool(contact.customer and contact.customer.vulnerable)
        view = routing_rules.Need(
            service_code=service_code,
            service_area=area,
            kind=need.kind,
            channel=contact.channel,
            ward=need.location.ward if need.location else None,
            emergency=need.priority is Priority.EMERGENCY,
            vulnerable=vulnerable,
        )
        rule = routing_rules.first_match(self.rules.rules, view)
        service = self.catalogue.service(service_code)
        assert service is not None
        priority = rule.then.priority or need.priority
        sla = rule.then.sla_working_days if rule.then.sla_working_days is not None else service.standard_working_days
        return NeedRouted(
            contact_id=contact.contact_id,
            case_id=case_id_for(contact.contact_id, need.need_id),
            need=need.model_copy(update={"service_code": service_code}),
            customer=contact.customer,
            channel=contact.channel,
            received_at=contact.received_at,
            routed_at=now,
            service_code=service_code,
            service_area=area,
            team=rule.then.team,
            hand_off_model=rule.then.hand_off_model,
            sla_working_days=sla,
            priority=priority,
            rule_id=rule.id,
            rules_version=self.rules.rules.version,
            classified_confidence=confidence,
        )

    def _assessment(
        self, contact: ContactReceived, need: Need, area: str, verdict: Verdict, now: datetime
    ) -> ContactAssessed:
        return ContactAssessed(
            contact_id=contact.contact_id,
            need_id=need.need_id,
            assessed_at=now,
            channel=contact.channel,
            service_area=area,
            avoidable=verdict.avoidable,
            category=verdict.category,
            related_case_id=verdict.related_case_id,
            explanation=verdict.explanation,
        )

    async def _context(
        self, connection: Connection, contact: ContactReceived, need: Need, service_code: str, now: datetime
    ) -> Context:
        by_reference = None
        if need.about_reference:
            row = await connection.fetchrow("SELECT * FROM known_cases WHERE reference = $1", need.about_reference)
            by_reference = _known(row) if row else None
        customer_id = contact.customer.customer_id if contact.customer else None
        customers_open: list[KnownCase] = []
        recently_closed: list[KnownCase] = []
        if customer_id is not None:
            rows = await connection.fetch(
                "SELECT * FROM known_cases WHERE customer_id = $1 AND service_code = $2 ORDER BY opened_at DESC",
                customer_id,
                service_code,
            )
            repeat_since = now - timedelta(days=self.settings.routing_repeat_window_days)
            customers_open = [_known(r) for r in rows if r["closed_at"] is None]
            recently_closed = [_known(r) for r in rows if r["closed_at"] is not None and r["closed_at"] >= repeat_since]
        nearby = await self._open_cases_near(connection, need, service_code, now)
        return Context(by_reference, customers_open, recently_closed, [_known(r) for r in nearby])

    async def _open_cases_near(
        self, connection: Connection, need: Need, service_code: str, now: datetime
    ) -> list[asyncpg.Record]:
        """Open cases of the service that could be at the need's place: within a box a little larger than the
        duplicate radius, or at its UPRN or street. The exact test is decide()'s; this keeps the candidates
        few however many cases are open."""
        location = need.location
        if location is None:
            return []
        box: tuple[float | None, ...] = (None, None, None, None)
        if location.latitude is not None and location.longitude is not None:
            reach = self.settings.routing_duplicate_radius_metres * 1.01
            degrees_lat = reach / 111_000
            degrees_lon = reach / (111_000 * max(math.cos(math.radians(location.latitude)), 0.01))
            box = (
                location.latitude - degrees_lat,
                location.latitude + degrees_lat,
                location.longitude - degrees_lon,
                location.longitude + degrees_lon,
            )
        return list(
            await connection.fetch(
                """SELECT * FROM known_cases
                   WHERE service_code = $1 AND closed_at IS NULL AND opened_at >= $2
                     AND ((latitude BETWEEN $3 AND $4 AND longitude BETWEEN $5 AND $6) OR uprn = $7 OR usrn = $8)
                   ORDER BY opened_at""",
                service_code,
                now - timedelta(days=self.settings.routing_duplicate_window_days),
                *box,
                location.uprn,
                location.usrn,
            )
        )

    async def _remember_decision(self, connection: Connection, routed: NeedRouted) -> None:
        customer_id = routed.customer.customer_id if routed.customer else None
        await _remember(
            connection,
            routed.case_id,
            case_reference_for(routed.case_id),
            routed.contact_id,
            routed.need.need_id,
            customer_id,
            routed.service_code,
            routed.service_area,
            routed.need.kind.value,
            routed.channel.value,
            routed.routed_at,
            routed.need.location,
        )

    async def _remember_case(self, raised: CaseRaised) -> None:
        """Cases raised elsewhere (or before this service's own memory) join the model too."""
        customer_id = raised.customer.customer_id if raised.customer else None
        async with self.pool.acquire() as connection:
            await _remember(
                connection,
                raised.case_id,
                raised.reference,
                raised.contact_id,
                raised.need_id,
                customer_id,
                raised.service_code,
                raised.service_area,
                raised.kind.value,
                raised.channel.value,
                raised.raised_at,
                raised.location,
            )

    async def _wrongly_routed(self, envelope: EventEnvelope, reassigned: CaseReassigned) -> None:
        """A re-route means the contact was passed to the wrong place: its assessment is revised."""
        async with self.pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, CONSUMER, envelope.id):
                return
            row = await connection.fetchrow("SELECT * FROM known_cases WHERE case_id = $1", reassigned.case_id)
            if row is None:
                return
            revised = ContactAssessed(
                contact_id=row["contact_id"],
                need_id=row["need_id"],
                assessed_at=reassigned.reassigned_at,
                channel=row["channel"],
                service_area=row["service_area"],
                avoidable=True,
                category=AvoidableCategory.WRONGLY_ROUTED,
                related_case_id=reassigned.case_id,
                explanation=f"re-routed to {reassigned.team}: {reassigned.reason}"[:500],
            )
            await outbox.append(connection, [self._wrap(revised, envelope)], self.settings.topic_namespace)
        self.on_commit()

    # --- triage ----------------------------------------------------------------------------------

    async def _send_to_triage(
        self,
        connection: Connection,
        envelope: EventEnvelope,
        contact: ContactReceived,
        need: Need,
        guess: str | None,
        confidence: float,
    ) -> NeedSentToTriage:
        reason = (
            "no service could be recognised in the text"
            if guess is None
            else f"not confident enough ({confidence:.2f})"
        )
        record = encode_envelope(envelope)
        await connection.execute(
            """INSERT INTO triage_queue (contact_id, need_id, event, headers, reason, best_guess, confidence, queued_at)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
            contact.contact_id,
            need.need_id,
            record.value,
            json.dumps(record.headers_dict()),
            reason,
            guess,
            confidence,
            self.clock(),
        )
        return NeedSentToTriage(
            contact_id=contact.contact_id,
            need_id=need.need_id,
            sent_at=self.clock(),
            reason=reason,
            best_guess_service_code=guess,
            confidence=confidence,
        )

    async def triage(self, contact_id: UUID, need_id: UUID, service_code: str) -> list[EventEnvelope]:
        """A person chose the service: the need is routed as if it had come with it."""
        if self.catalogue.service(service_code) is None:
            raise ValueError(f"unknown service code {service_code!r}")
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "DELETE FROM triage_queue WHERE contact_id = $1 AND need_id = $2 RETURNING event, headers",
                contact_id,
                need_id,
            )
            if row is None:
                raise NotInTriage(f"need {need_id} of contact {contact_id} is not waiting in triage")
            cause = decode_record(row["event"], json.loads(row["headers"]))
            contact = cause.data
            assert isinstance(contact, ContactReceived)
            need = next(n for n in contact.needs if n.need_id == need_id)
            events = await self._decide(connection, contact, need, service_code, None, self.clock())
            envelopes = [self._wrap(e, cause) for e in events]
            await outbox.append(connection, envelopes, self.settings.topic_namespace)
        self.on_commit()
        return envelopes

    # --- rules -----------------------------------------------------------------------------------

    async def publish_rules_if_new(self) -> bool:
        rules = self.rules
        async with self.pool.acquire() as connection, connection.transaction():
            inserted = await connection.fetchval(
                "INSERT INTO published_rules (checksum, version) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                rules.checksum,
                rules.rules.version,
            )
            if not inserted:
                return False
            event = RoutingRulesPublished(
                ruleset=rules.rules.ruleset,
                rules_version=rules.rules.version,
                published_at=self.clock(),
                checksum=rules.checksum,
                rule_count=len(rules.rules.rules),
            )
            await outbox.append(connection, [self._wrap(event, None)], self.settings.topic_namespace)
        self.on_commit()
        return True


def _known(row: asyncpg.Record) -> KnownCase:
    return KnownCase(
        case_id=row["case_id"],
        reference=row["reference"],
        contact_id=row["contact_id"],
        need_id=row["need_id"],
        customer_id=row["customer_id"],
        service_code=row["service_code"],
        service_area=row["service_area"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        uprn=row["uprn"],
        usrn=row["usrn"],
    )


async def _remember(
    connection: Connection,
    case_id: UUID,
    reference: str,
    contact_id: UUID,
    need_id: UUID,
    customer_id: UUID | None,
    service_code: str,
    service_area: str,
    kind: str,
    channel: str,
    opened_at: datetime,
    location: Location | None,
) -> None:
    await connection.execute(
        """INSERT INTO known_cases (case_id, reference, contact_id, need_id, customer_id, service_code,
               service_area, kind, channel, opened_at, latitude, longitude, uprn, usrn)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (case_id) DO NOTHING""",
        case_id,
        reference,
        contact_id,
        need_id,
        customer_id,
        service_code,
        service_area,
        kind,
        channel,
        opened_at,
        location.latitude if location else None,
        location.longitude if location else None,
        location.uprn if location else None,
        location.usrn if location else None,
    )
