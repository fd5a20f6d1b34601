"""A known synthetic month of events, and its correct figures computed here, independently of the service.

March 2026 on the council's clock (Europe/London): from midnight GMT on 1 March to midnight BST on 1 April,
the clocks going forward on 29 March. Contacts fall either side of both ends, some a few minutes from
midnight; some arrive late (a backlog caught up after an outage), some were settled on a service by routing
after they came in as free text, and some cases were resolved on the spot with no service standard.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

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
from onestop.contracts.events.common import Actor, Channel, ContactMethod, HandOffModel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import FeedbackReceived, NotificationSent
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked
from onestop.contracts.identifiers import case_id_for, case_reference_for

LONDON = ZoneInfo("Europe/London")
MARCH = datetime(2026, 3, 1, tzinfo=LONDON)  # 00:00 GMT
APRIL = datetime(2026, 4, 1, tzinfo=LONDON)  # 00:00 BST, 23:00 UTC on 31 March
AREAS = {"587": "street_cleaning", "524": "waste", "58": "council_tax", "141": "housing"}
CHANNELS = [Channel.TELEPHONE, Channel.WEB, Channel.APP, Channel.EMAIL, Channel.POST, Channel.FACE_TO_FACE]
SYSTEM = Actor(kind="system", id="synthetic")
# Near the month's ends: the first two are March's on the council's clock, the last two are not.
EDGES = [
    datetime(2026, 3, 1, 0, 20, tzinfo=UTC),  # 00:20 GMT on 1 March
    datetime(2026, 3, 31, 22, 50, tzinfo=UTC),  # 23:50 BST on 31 March
    datetime(2026, 3, 31, 23, 30, tzinfo=UTC),  # 00:30 BST on 1 April: April, though still 31 March in UTC
    datetime(2026, 2, 28, 23, 40, tzinfo=UTC),  # 23:40 GMT on 28 February
]


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def in_march(moment: datetime) -> bool:
    return MARCH <= moment < APRIL


def whole_days(since: datetime, until: datetime) -> int:
    return int((until.astimezone(UTC) - since.astimezone(UTC)).total_seconds() // 86400)


@dataclass
class Month:
    events: list[Event] = field(default_factory=list)
    late_events: list[Event] = field(default_factory=list)  # published after the rest have been counted
    expected: dict[str, Any] = field(default_factory=dict)

    def envelopes(self) -> list[EventEnvelope]:
        return [EventEnvelope.wrap(e, source="/synthetic") for e in self.events]

    def late_envelopes(self) -> list[EventEnvelope]:
        return [EventEnvelope.wrap(e, source="/synthetic") for e in self.late_events]


@dataclass
class Tally:
    """What was sent for March, counted as the definitions in MEASURES.md say."""

    contacts: int = 0
    avoidable: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    self_service: int = 0
    cases_raised: int = 0
    first_contact: int = 0
    closed_with_standard: int = 0
    within: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    written: int = 0
    reply_hours: list[float] = field(default_factory=list)
    cases: dict[UUID, tuple[datetime, datetime | None]] = field(default_factory=dict)  # raised, closed

    def count(self, mapping: dict[str, int], key: str) -> None:
        mapping[key] = mapping.get(key, 0) + 1


def synthetic_month(seed: int = 14) -> Month:
    rng = random.Random(seed)
    month = Month()
    tally = Tally()
    times = [
        MARCH + timedelta(days=rng.randrange(-5, 36), hours=rng.randrange(8, 18), minutes=rng.randrange(60))
        for _ in range(120)
    ]
    revised = False
    for n, when in enumerate([*times, *EDGES]):
        # Every seventh contact is caught up after an outage: it reaches the log after everything else.
        late = n % 7 == 3
        add = month.late_events.append if late else month.events.append
        assessed = _contact(rng, when, late, add, tally)
        if late and not assessed.avoidable and in_march(when) and not revised:
            # Re-routed as the back office reported, a day after it came in: the revision is stamped earlier
            # than the assessment made when routing caught up, and still counts, being later in the log.
            add(
                assessed.model_copy(
                    update={
                        "assessed_at": when + timedelta(days=1),
                        "avoidable": True,
                        "category": AvoidableCategory.WRONGLY_ROUTED,
                    }
                )
            )
            tally.avoidable += 1
            tally.count(tally.by_category, AvoidableCategory.WRONGLY_ROUTED.value)
            revised = True
    _channels_and_feedback(month.events.append)
    _complaint(month.events.append, tally)
    end = APRIL
    open_at_end = [
        whole_days(raised, end)
        for raised, closed in tally.cases.values()
        if raised < end and (not closed or closed >= end)
    ]
    reply_hours = sorted(tally.reply_hours)
    month.expected = {
        "avoidable_contact": {
            "contacts": tally.contacts,
            "avoidable": tally.avoidable,
            "percent": pct(tally.avoidable, tally.contacts),
            "by_category": tally.by_category,
        },
        "first_contact_resolution": {"needs": tally.cases_raised, "resolved_at_first_contact": tally.first_contact},
        "channel_mix": {"contacts": tally.contacts, "by_channel": tally.by_channel, "self_service": tally.self_service},
        "telephone": {
            "offered": len(CALLS),
            "answered": len(ANSWERED),
            "abandoned": len(CALLS) - len(ANSWERED),
            "abandonment_percent": pct(len(CALLS) - len(ANSWERED), len(CALLS)),
            "answered_within_20s_percent": pct(sum(w <= 20 for w in ANSWERED), len(ANSWERED)),
            "average_speed_of_answer_seconds": round(sum(ANSWERED) / len(ANSWERED), 1),
        },
        "face_to_face": {
            "served": len(WAITS),
            "average_wait_seconds": round(sum(WAITS) / len(WAITS), 1),
            "longest_wait_seconds": max(WAITS),
        },
        "written_replies": {
            "written_contacts": tally.written,
            "replied": len(reply_hours),
            "average_hours_to_reply": round(sum(reply_hours) / len(reply_hours), 1) if reply_hours else None,
        },
        "sla_compliance": {"closed": tally.closed_with_standard, "within_standard": tally.within},
        "open_cases_by_age": {
            "open": len(open_at_end),
            "bands": {
                "0-10 days": sum(d <= 10 for d in open_at_end),
                "11-30 days": sum(11 <= d <= 30 for d in open_at_end),
                "31-60 days": sum(31 <= d <= 60 for d in open_at_end),
                "over 60 days": sum(d > 60 for d in open_at_end),
            },
        },
        "satisfaction": {
            "answers": len(ANSWERS),
            "satisfied": sum(s for s, _ in ANSWERS),
            "percent": pct(sum(s for s, _ in ANSWERS), len(ANSWERS)),
            "average_score": round(sum(score for _, score in ANSWERS) / len(ANSWERS), 2),
        },
        "complaints": {"informal": 1, "stage_1": 1},
        "reasons_for_contact": tally.reasons,
        "duplicates_absorbed": tally.duplicates,
    }
    return month


def _contact(rng: random.Random, when: datetime, late: bool, add: Any, tally: Tally) -> ContactAssessed:
    channel = rng.choice(CHANNELS)
    code = rng.choice(list(AREAS))
    written = channel in (Channel.EMAIL, Channel.POST)
    contact_id, need_id = uuid4(), uuid4()
    # The mail room sends free text: routing settles the service, and says so in its assessment.
    arrived_with = None if written else code
    kind = NeedKind.SERVICE_REQUEST if written else NeedKind.REPORT_PROBLEM
    need = Need(need_id=need_id, kind=kind, service_code=arrived_with, description="about a problem")
    add(ContactReceived(contact_id=contact_id, channel=channel, received_at=when, needs=(need,)))
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
    # Assessed minutes later (on 1 April, for a contact just before midnight), or weeks later when routing
    # caught up after an outage: the contact's own time decides its month.
    assessed = ContactAssessed(
        contact_id=contact_id,
        need_id=need_id,
        assessed_at=when + (timedelta(days=20) if late else timedelta(minutes=15)),
        channel=channel,
        service_area=AREAS[code],
        service_code=code,
        avoidable=category is not None,
        category=category,
    )
    add(assessed)
    counted = in_march(when)
    if counted:
        tally.contacts += 1
        tally.count(tally.by_channel, channel.value)
        tally.self_service += channel.is_self_service
        tally.count(tally.reasons, code)
        tally.written += written
        if category is not None:
            tally.avoidable += 1
            tally.count(tally.by_category, category.value)
    if category is AvoidableCategory.DUPLICATE_REPORT:
        # Linked when routing got to it, days later: the report still counts when it came in.
        linked = when + timedelta(days=3)
        add(DuplicateReportLinked(contact_id=contact_id, need_id=need_id, case_id=uuid4(), linked_at=linked))
        tally.duplicates += counted
    elif category is not AvoidableCategory.PROGRESS_CHASING:
        _case(rng, when, contact_id, need_id, channel, code, add, tally)
    return assessed


def _case(
    rng: random.Random,
    when: datetime,
    contact_id: UUID,
    need_id: UUID,
    channel: Channel,
    code: str,
    add: Any,
    tally: Tally,
) -> None:
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
    counted = in_march(when)
    tally.cases_raised += counted
    at_first = rng.random() < 0.3
    if at_first:
        # One & Done: no hand-off, so no due time; the log of old still says it met its standard.
        tally.first_contact += counted
        add(CaseResolved(case_id=case_id, resolved_at=when, outcome="done", resolved_by=SYSTEM, at_first_contact=True))
        add(
            CaseClosed(
                case_id=case_id, closed_at=when, outcome=CaseOutcome.RESOLVED, service_area=AREAS[code], within_sla=True
            )
        )
        tally.cases[case_id] = (when, when)
        return
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
    days = rng.choice([1, 2, 5, 40, None])  # None: still open
    if days is None:
        tally.cases[case_id] = (when, None)
        return
    finished = when + timedelta(days=days)
    add(CaseResolved(case_id=case_id, resolved_at=finished, outcome="done", resolved_by=SYSTEM))
    add(
        CaseClosed(
            case_id=case_id,
            closed_at=finished,
            outcome=CaseOutcome.RESOLVED,
            service_area=AREAS[code],
            within_sla=finished <= due,
        )
    )
    tally.cases[case_id] = (when, finished)
    if in_march(finished):
        tally.closed_with_standard += 1
        tally.within += finished <= due
    if channel in (Channel.EMAIL, Channel.POST) and in_march(when):
        sent = when + timedelta(hours=rng.choice([2, 4, 26]))
        add(NotificationSent(notification_id=uuid4(), sent_at=sent, method=ContactMethod.EMAIL, case_id=case_id))
        tally.reply_hours.append((sent - when).total_seconds() / 3600)


# Calls: waits chosen so the figures are known.
CALLS = [
    (12, "answered"),
    (25, "answered"),
    (8, "answered"),
    (95, "abandoned"),
    (19, "answered"),
    (40, "abandoned"),
    (20, "answered"),
    (70, "answered"),
]
ANSWERED = [w for w, o in CALLS if o == "answered"]
WAITS = [300, 420, 900]
ANSWERS = [(True, 5), (True, 4), (False, 2), (True, 4), (False, 1)]


def _channels_and_feedback(add: Any) -> None:
    for wait, outcome in CALLS:
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
    # A call offered at 00:10 BST on 1 April belongs to April.
    add(CallOffered(call_id=uuid4(), queue="main", offered_at=datetime(2026, 3, 31, 23, 10, tzinfo=UTC)))
    for wait in WAITS:
        ticket_id, at = uuid4(), MARCH + timedelta(days=4, hours=11)
        add(TicketIssued(ticket_id=ticket_id, site="One Stop Shop", issued_at=at))
        add(
            TicketServed(
                ticket_id=ticket_id, site="One Stop Shop", served_at=at + timedelta(seconds=wait), wait_seconds=wait
            )
        )
    for satisfied, score in ANSWERS:
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


def _complaint(add: Any, tally: Tally) -> None:
    complaint = uuid4()
    raised = MARCH + timedelta(days=2)
    add(
        CaseRaised(
            case_id=complaint,
            reference=case_reference_for(complaint),
            raised_at=raised,
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
    closed = MARCH + timedelta(days=18)
    add(CaseClosed(case_id=complaint, closed_at=closed, outcome=CaseOutcome.RESOLVED, service_area="corporate"))
    tally.cases_raised += 1  # the complaint is a case raised in March too
    tally.cases[complaint] = (raised, closed)
