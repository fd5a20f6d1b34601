"""A known synthetic month of events, and its correct figures computed here, independently of the service."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseRaised,
    CaseResolved,
    ComplaintStage,
    EscalationReason,
)
from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
from onestop.contracts.events.common import Actor, Channel, HandOffModel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import FeedbackReceived, NotificationSent
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked
from onestop.contracts.identifiers import case_id_for, case_reference_for

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
AREAS = {"587": "street_cleaning", "524": "waste", "58": "council_tax", "141": "housing"}
CHANNELS = [Channel.TELEPHONE, Channel.WEB, Channel.APP, Channel.EMAIL, Channel.POST, Channel.FACE_TO_FACE]
SYSTEM = Actor(kind="system", id="synthetic")


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Month:
    events: list[Event] = field(default_factory=list)
    expected: dict[str, Any] = field(default_factory=dict)

    def envelopes(self) -> list[EventEnvelope]:
        return [EventEnvelope.wrap(e, source="/synthetic") for e in self.events]


def synthetic_month(seed: int = 14) -> Month:
    rng = random.Random(seed)
    month = Month()
    add = month.events.append
    contacts = avoidable = 0
    by_channel: dict[str, int] = {}
    by_category: dict[str, int] = {}
    self_service = 0
    needs_raised = first_contact = 0
    closed = within = 0
    reasons: dict[str, int] = {}
    duplicates = 0
    email_reply_hours: list[float] = []
    written = 0
    replied = 0
    for _ in range(120):
        # Contacts in February and April too: they must not count in March.
        when = MARCH + timedelta(days=rng.randrange(-5, 36), hours=rng.randrange(8, 18), minutes=rng.randrange(60))
        in_march = MARCH <= when < APRIL
        channel = rng.choice(CHANNELS)
        code = rng.choice(list(AREAS))
        contact_id, need_id = uuid4(), uuid4()
        add(
            ContactReceived(
                contact_id=contact_id,
                channel=channel,
                received_at=when,
                needs=(Need(need_id=need_id, kind=NeedKind.REPORT_PROBLEM, service_code=code),),
            )
        )
        category = rng.choice(
            [
                None,
                None,
                None,
                AvoidableCategory.PROGRESS_CHASING,
                AvoidableCategory.DUPLICATE_REPORT,
                AvoidableCategory.COUNCIL_FAILURE,
            ]
        )
        # Assessed a few seconds later: the contact's own time decides its month.
        add(
            ContactAssessed(
                contact_id=contact_id,
                need_id=need_id,
                assessed_at=when + timedelta(seconds=5),
                channel=channel,
                service_area=AREAS[code],
                avoidable=category is not None,
                category=category,
            )
        )
        if in_march:
            contacts += 1
            by_channel[channel.value] = by_channel.get(channel.value, 0) + 1
            self_service += channel.is_self_service
            reasons[code] = reasons.get(code, 0) + 1
            written += channel in (Channel.EMAIL, Channel.POST)
            if category is not None:
                avoidable += 1
                by_category[category.value] = by_category.get(category.value, 0) + 1
        if category is AvoidableCategory.DUPLICATE_REPORT:
            add(DuplicateReportLinked(contact_id=contact_id, need_id=need_id, case_id=uuid4(), linked_at=when))
            duplicates += in_march
            continue
        if category is AvoidableCategory.PROGRESS_CHASING:
            continue
        case_id = case_id_for(contact_id, need_id)
        add(
            CaseRaised(
                case_id=case_id,
                reference=case_reference_for(case_id),
                raised_at=when,
                contact_id=contact_id,
                need_id=need_id,
                channel=channel,
                kind=NeedKind.REPORT_PROBLEM,
                service_code=code,
                service_area=AREAS[code],
            )
        )
        due = when + timedelta(days=3)
        add(
            CaseHandedOff(
                case_id=case_id,
                reference=case_reference_for(case_id),
                handed_off_at=when,
                hand_off_model=HandOffModel.FIRE_AND_FORGET,
                service_code=code,
                service_area=AREAS[code],
                team="t",
                sla_due_at=due,
            )
        )
        at_first = rng.random() < 0.3
        needs_raised += in_march
        first_contact += in_march and at_first
        finished = when + (timedelta(minutes=5) if at_first else timedelta(days=rng.choice([1, 2, 5])))
        add(
            CaseResolved(
                case_id=case_id, resolved_at=finished, outcome="done", resolved_by=SYSTEM, at_first_contact=at_first
            )
        )
        add(
            CaseClosed(
                case_id=case_id,
                closed_at=finished,
                outcome=CaseOutcome.RESOLVED,
                service_area=AREAS[code],
                within_sla=finished <= due,
            )
        )
        if MARCH <= finished < APRIL:
            closed += 1
            within += finished <= due
        if channel in (Channel.EMAIL, Channel.POST) and in_march:
            replied += 1
            sent = when + timedelta(hours=rng.choice([2, 4, 26]))
            add(NotificationSent(notification_id=uuid4(), sent_at=sent, method="email", case_id=case_id))  # type: ignore[arg-type]
            email_reply_hours.append((sent - when).total_seconds() / 3600)
    # Calls: waits chosen so the figures are known.
    calls = [
        (12, "answered"),
        (25, "answered"),
        (8, "answered"),
        (95, "abandoned"),
        (19, "answered"),
        (40, "abandoned"),
        (20, "answered"),
        (70, "answered"),
    ]
    for wait, outcome in calls:
        call_id, at = uuid4(), MARCH + timedelta(days=3, hours=10)
        add(CallOffered(call_id=call_id, queue="main", offered_at=at))
        if outcome == "answered":
            add(
                CallAnswered(call_id=call_id, queue="main", answered_at=at + timedelta(seconds=wait), wait_seconds=wait)
            )
        else:
            add(
                CallAbandoned(
                    call_id=call_id, queue="main", abandoned_at=at + timedelta(seconds=wait), wait_seconds=wait
                )
            )
    answered = [w for w, o in calls if o == "answered"]
    waits = [300, 420, 900]
    for wait in waits:
        ticket_id, at = uuid4(), MARCH + timedelta(days=4, hours=11)
        add(TicketIssued(ticket_id=ticket_id, site="One Stop Shop", issued_at=at))
        add(
            TicketServed(
                ticket_id=ticket_id, site="One Stop Shop", served_at=at + timedelta(seconds=wait), wait_seconds=wait
            )
        )
    answers = [(True, 5), (True, 4), (False, 2), (True, 4), (False, 1)]
    for satisfied, score in answers:
        add(
            FeedbackReceived(
                survey_id=uuid4(),
                case_id=uuid4(),
                received_at=MARCH + timedelta(days=20),
                service_area="waste",
                satisfied=satisfied,
                score=score,
            )
        )
    complaint = uuid4()
    add(
        CaseRaised(
            case_id=complaint,
            reference=case_reference_for(complaint),
            raised_at=MARCH + timedelta(days=2),
            contact_id=uuid4(),
            need_id=uuid4(),
            channel=Channel.TELEPHONE,
            kind=NeedKind.COMPLAINT,
            service_code="353",
            service_area="corporate",
        )
    )
    for stage, day in ((ComplaintStage.INFORMAL, 2), (ComplaintStage.STAGE_1, 9)):
        add(
            CaseEscalated(
                case_id=complaint,
                escalated_at=MARCH + timedelta(days=day),
                reason=EscalationReason.COMPLAINT_STAGE,
                escalated_to=("x",),
                service_area="corporate",
                days_open=day,
                complaint_stage=stage,
                due_at=MARCH + timedelta(days=day + 14),
            )
        )
    add(
        CaseClosed(
            case_id=complaint,
            closed_at=MARCH + timedelta(days=18),
            outcome=CaseOutcome.RESOLVED,
            service_area="corporate",
        )
    )
    needs_raised += 1  # the complaint is a case raised in March too
    written_sorted = sorted(email_reply_hours)
    month.expected = {
        "avoidable_contact": {
            "contacts": contacts,
            "avoidable": avoidable,
            "percent": pct(avoidable, contacts),
            "by_category": by_category,
        },
        "first_contact_resolution": {"needs": needs_raised, "resolved_at_first_contact": first_contact},
        "channel_mix": {"contacts": contacts, "by_channel": by_channel, "self_service": self_service},
        "telephone": {
            "offered": len(calls),
            "answered": len(answered),
            "abandoned": len(calls) - len(answered),
            "abandonment_percent": pct(len(calls) - len(answered), len(calls)),
            "answered_within_20s_percent": pct(sum(w <= 20 for w in answered), len(answered)),
            "average_speed_of_answer_seconds": round(sum(answered) / len(answered), 1),
        },
        "face_to_face": {"served": 3, "average_wait_seconds": round(sum(waits) / 3, 1), "longest_wait_seconds": 900},
        "written_replies": {
            "written_contacts": written,
            "replied": replied,
            "average_hours_to_reply": round(sum(written_sorted) / len(written_sorted), 1) if replied else None,
        },
        "sla_compliance": {"closed": closed, "within_standard": within},
        "satisfaction": {"answers": 5, "satisfied": 3, "percent": 60.0, "average_score": 3.2},
        "complaints": {"informal": 1, "stage_1": 1},
        "reasons_for_contact": reasons,
        "duplicates_absorbed": duplicates,
    }
    return month
