"""Routing one need: which service it is for, then what to do with it (a new case, a link to a problem
already known, or only a chase) and its NI14 verdict, from the rules in force and the cases routing knows.

Routing reasons in the council's time: the windows for duplicates and repeats, and the time a report is
linked, are those of the contact's receipt, so a contact caught up after an outage is judged as it would
have been on the day it arrived."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from onestop.contracts.events.base import Event
from onestop.contracts.events.common import NeedKind, Priority
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.contracts.identifiers import case_id_for
from onestop.contracts.service_catalogue import ServiceCatalogue
from onestop.routing.adapters.known_cases import KnownCases, Place
from onestop.routing.adapters.rules_file import RulesFile
from onestop.routing.domain import rules as routing_rules
from onestop.routing.domain.classifier import KeywordClassifier
from onestop.routing.domain.decisions import Context, LinkDuplicate, RaiseCase, Verdict, decide
from onestop.routing.domain.known_case import KnownCase
from onestop.routing.settings import RoutingSettings


@dataclass(frozen=True)
class Recognised:
    """The need's service: the one it came with (or its case's), or the classifier's confident guess."""

    service_code: str
    confidence: float | None  # the classifier's, when the service was read from free text
    kind: NeedKind | None = None  # the kind of need read from the text with it


@dataclass(frozen=True)
class Unrecognised:
    """No service a machine may choose: a person must (triage)."""

    best_guess: str | None
    confidence: float

    @property
    def reason(self) -> str:
        if self.best_guess is None:
            return "no service could be recognised in the text"
        return f"not confident enough ({self.confidence:.2f})"


class NeedRouter:
    def __init__(
        self,
        catalogue: ServiceCatalogue,
        rules: RulesFile,
        classifier: KeywordClassifier,
        settings: RoutingSettings,
        clock: Callable[[], datetime],
    ) -> None:
        classifier.keywords.check_against(catalogue)  # a kind read from text must be one the service offers
        self.catalogue, self.rules, self.classifier = catalogue, rules, classifier
        self.settings, self.clock = settings, clock

    async def recognise(self, need: Need, known_cases: KnownCases) -> Recognised | Unrecognised:
        service_code = need.service_code
        if service_code is None and need.about_reference:
            # "About my case OS-...": the case says which service it is.
            case = await known_cases.by_reference(need.about_reference)
            service_code = case.service_code if case else None
        if service_code is not None and self.catalogue.service(service_code) is not None:
            return Recognised(service_code, None)
        guess = self.classifier.classify(need.description)
        if guess.service_code is None or guess.confidence < self.settings.routing_triage_threshold:
            return Unrecognised(guess.service_code, guess.confidence)
        return Recognised(guess.service_code, guess.confidence, guess.kind)

    def settle(self, need: Need, service: Recognised) -> Need:
        """The need with the service and the kind of need it is routed by: the kind read from its text when
        its service was (a letter filed as a request that reports a missed bin is a problem report), else
        the kind it came with."""
        return need.model_copy(update={"service_code": service.service_code, "kind": service.kind or need.kind})

    def chosen_by_a_person(self, need: Need, service_code: str) -> Recognised:
        """A service chosen in triage for a need that came as free text: its kind is what a message about
        that service is."""
        return Recognised(
            service_code, None, self.classifier.kind_of(service_code) if need.service_code is None else None
        )

    async def decide(
        self, contact: ContactReceived, need: Need, service: Recognised, known_cases: KnownCases
    ) -> list[Event]:
        """What becomes of the need, then its assessment. A new case is remembered at once, so the next
        report of the same problem (even in the same batch) is linked to it."""
        received, now = contact.received_at, self.clock()
        need = self.settle(need, service)
        area = self.catalogue.area_of(service.service_code)
        assert area is not None, "a recognised service is in the catalogue"
        context = await self._context(contact, need, service.service_code, received, known_cases)
        decision = decide(need, service.service_code, context, self.settings.routing_duplicate_radius_metres)
        events: list[Event] = []
        if isinstance(decision, RaiseCase):
            routed = self._routed(contact, need, service, area.id, now)
            await known_cases.remember(KnownCase.routed(routed))
            events.append(routed)
        elif isinstance(decision, LinkDuplicate):
            events.append(
                DuplicateReportLinked(
                    contact_id=contact.contact_id,
                    need_id=need.need_id,
                    case_id=decision.case.case_id,
                    linked_at=received,  # the report was absorbed when it arrived
                    customer_id=contact.customer.customer_id if contact.customer else None,
                    distance_metres=decision.distance_metres,
                    customer=contact.customer,
                )
            )
        events.append(_assessment(contact, need, service.service_code, area.id, decision.verdict, now))
        return events

    async def _context(
        self, contact: ContactReceived, need: Need, service_code: str, received: datetime, known_cases: KnownCases
    ) -> Context:
        by_reference = await known_cases.by_reference(need.about_reference) if need.about_reference else None
        customers_open: list[KnownCase] = []
        recently_closed: list[KnownCase] = []
        customer_id = contact.customer.customer_id if contact.customer else None
        if customer_id is not None:
            theirs = await known_cases.of_customer(customer_id, service_code)
            repeat_since = received - timedelta(days=self.settings.routing_repeat_window_days)
            customers_open = [case for case in theirs if case.closed_at is None]
            recently_closed = [
                case for case in theirs if case.closed_at is not None and repeat_since <= case.closed_at <= received
            ]
        nearby: list[KnownCase] = []
        place = self.duplicate_search(contact, need, service_code)
        if place is not None:
            nearby = await known_cases.open_near(
                place.service_code, place.location, place.radius_metres, place.opened_since
            )
        return Context(by_reference, customers_open, recently_closed, nearby)

    def duplicate_search(self, contact: ContactReceived, need: Need, service_code: str) -> Place | None:
        """Where to look for the same problem reported before: near the need's place, in the window."""
        if need.location is None:
            return None
        since = contact.received_at - timedelta(days=self.settings.routing_duplicate_window_days)
        return Place(service_code, need.location, self.settings.routing_duplicate_radius_metres, since)

    async def read_ahead(self, known_cases: KnownCases, events: Sequence[Event]) -> None:
        """What a batch's contacts and case events will ask of the known cases, read in one round trip: the
        cases they name or would raise, their customers' cases, and the duplicate searches of the needs that
        name their service (a need read from free text is searched for when it is routed)."""
        case_ids, customer_ids, places = [], [], []
        for event in events:
            if isinstance(event, ContactReceived):
                if event.customer is not None and event.customer.customer_id is not None:
                    customer_ids.append(event.customer.customer_id)
                for need in event.needs:
                    case_ids.append(case_id_for(event.contact_id, need.need_id))
                    if need.service_code is not None and self.catalogue.service(need.service_code) is not None:
                        place = self.duplicate_search(event, need, need.service_code)
                        places += [place] if place else []
            elif isinstance(case_id := getattr(event, "case_id", None), UUID):
                case_ids.append(case_id)
        await known_cases.read_ahead(case_ids, customer_ids, places)

    def _routed(
        self, contact: ContactReceived, need: Need, service: Recognised, area: str, now: datetime
    ) -> NeedRouted:
        """The new case, with what the first matching rule says about its team, hand-off and standard.
        `need` is settled: its service and kind are the ones it is routed by."""
        view = routing_rules.Need(
            service_code=service.service_code,
            service_area=area,
            kind=need.kind,
            channel=contact.channel,
            ward=need.location.ward if need.location else None,
            emergency=need.priority is Priority.EMERGENCY,
            vulnerable=bool(contact.customer and contact.customer.vulnerable),
        )
        in_force = self.rules.rules
        rule = routing_rules.first_match(in_force, view)
        standard = self.catalogue.service(service.service_code)
        assert standard is not None
        sla = rule.then.sla_working_days if rule.then.sla_working_days is not None else standard.standard_working_days
        return NeedRouted(
            contact_id=contact.contact_id,
            case_id=case_id_for(contact.contact_id, need.need_id),
            need=need,
            customer=contact.customer,
            channel=contact.channel,
            received_at=contact.received_at,
            routed_at=now,
            service_code=service.service_code,
            service_area=area,
            team=rule.then.team,
            hand_off_model=rule.then.hand_off_model,
            sla_working_days=sla,
            priority=rule.then.priority or need.priority,
            rule_id=rule.id,
            rules_version=in_force.version,
            classified_confidence=service.confidence,
        )


def _assessment(
    contact: ContactReceived, need: Need, service_code: str, area: str, verdict: Verdict, now: datetime
) -> ContactAssessed:
    return ContactAssessed(
        contact_id=contact.contact_id,
        need_id=need.need_id,
        assessed_at=now,
        channel=contact.channel,
        service_area=area,
        service_code=service_code,
        avoidable=verdict.avoidable,
        category=verdict.category,
        related_case_id=verdict.related_case_id,
        explanation=verdict.explanation,
    )
